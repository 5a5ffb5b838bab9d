"""Shared fixtures for the Discord adapter tests: a real engine, a store, a sample dump."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.ops.health import Health
from bot.state import Store
from knowledge import default_kb

# A KVM guest as dmidecode shows it (written for these tests; serials are made up).
QEMU_DMIDECODE = """\
# dmidecode 3.4
Getting SMBIOS data from sysfs.
SMBIOS 2.8 present.

Handle 0x0100, DMI type 1, 27 bytes
System Information
\tManufacturer: QEMU
\tProduct Name: Standard PC (Q35 + ICH9, 2009)
\tVersion: pc-q35-7.2
\tSerial Number: Not Specified
\tUUID: 4c4c4544-0042-3510-8052-b4c04f4b3732
\tWake-up Type: Power Switch
\tSKU Number: Not Specified
\tFamily: Not Specified

Handle 0x0000, DMI type 0, 24 bytes
BIOS Information
\tVendor: SeaBIOS
\tVersion: 1.16.2-debian-1.16.2-1
\tRelease Date: 04/01/2014
"""

QUESTION = "Can I run a ZOS farming node in a VM on my Proxmox server?"
LOOK_ALIKE = "Has anyone tried the new Proxmox release on their home lab? Backups are great"


@pytest.fixture(scope="session")
def kb():
    return default_kb()


@pytest.fixture
def engine(kb) -> Engine:
    return Engine(kb, answer_staff=False)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "state.sqlite3")
    yield s
    s.close()


@pytest.fixture
def health() -> Health:
    return Health()
