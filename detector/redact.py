"""Mask what identifies a person's machine: serial numbers, UUIDs, MACs beyond the vendor
prefix, IPv4/IPv6 addresses and host names. Used on every evidence line, and by the bot
for its logs. Linear: a handful of regex passes with no nested quantifiers.
"""

from __future__ import annotations

import re

_UUID = re.compile(r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b")
# Keep the first three octets (the maker's OUI: 52:54:00 = QEMU) and mask the rest.
_MAC = re.compile(r"\b([0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}\2[0-9A-Fa-f]{2})(?:\2[0-9A-Fa-f]{2}){3}\b")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:/\d{1,2})?(?![\w.]|-[A-Za-z])"
)
# At least three colons, so clock times (14:18:54) and PCI addresses (0000:00:02.0) stay.
_IPV6 = re.compile(
    r"(?<![\w:])(?![0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![\w:]))[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){3,7}(?:/\d{1,3})?(?![\w:])|(?<![\w:])::1(?![\w:])"
)
_SERIAL = re.compile(
    r"(?im)^([ \t]*(?:Serial Number|Serial No|Serial|UUID|Asset Tag|Chassis Serial|System Serial Number|"
    r"Machine ID|Boot ID|Product Serial|Board Serial|Static hostname|Transient hostname|Pretty hostname|"
    r"Host Name|Hostname|HOSTNAME|Node name|Icon name|serial_number|SerialNumber|LU WWN Device Id|"
    r"wwn|Unit serial number|Serial number)[ \t]*[:=][ \t]*)(\S[^\n]*)$"
)
# inxi prints `serial: <superuser required>` / `<filter>`: a placeholder, not a serial.
_SERIAL_SHORT = re.compile(r"\b(serial:|uuid:)[ \t]*(?!<)(\S+)", re.I)
# Placeholders, and public constants that identify a platform rather than a machine (the
# very reason shown in the evidence): Oracle Cloud's and Azure's fixed asset tags, EC2's.
_KEEP_SERIAL = re.compile(
    r"^(Not Specified|None|To be filled by O\.E\.M\.|Default string|0|N/A|Not Applicable|System Serial Number"
    r"|No Asset Tag|Asset-\d{1,8}|OracleCloud\.com|7783-7084-3265-9085-8269-3286-77|Amazon EC2"
    r"|Chassis Serial Number|Base Board Serial Number|0123456789|<[\w ]{1,40}>)$",
    re.I,
)
# Bounded repeats with a lookbehind anchor: linear even on "a.a.a.a..." lines.
_PROMPT_HOST = re.compile(r"(?<![\w.-])([\w.-]{1,64})@([\w.-]{1,253})(?=[:\s\]~)]|$)")
_UNAME = re.compile(r"(?m)^(Linux|Darwin|FreeBSD)[ \t]+(?!version\b)(\S+)")
_HEXID = re.compile(r"\b[0-9a-f]{32,64}\b")
_EC2_ID = re.compile(r"\bi-[0-9a-f]{8,17}\b")
_FQDN = re.compile(
    r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){2,6}(?:com|net|org|de|eu|io|cloud|local|lan|internal|uk|fr|nl|be|us|ca)\b",
    re.I,
)
_DISK_ID = re.compile(r"\b((?:ata|scsi|nvme|usb|wwn)-[\w.-]{0,80}?)_([A-Za-z0-9]{6,})(?=[\s-]|$)")


def _serial(m: re.Match[str]) -> str:
    value = m.group(2).strip()
    if _KEEP_SERIAL.match(value):
        return m.group(0)
    return f"{m.group(1)}[masked]"


def redact(text: str, hosts: tuple[str, ...] = ()) -> str:
    """The text with serials, UUIDs, MAC suffixes, IPs and host names masked.

    `hosts`: host names seen elsewhere in the paste (prompts, hostnamectl, uname), masked
    wherever they appear as a word — a machine is often named after its model.
    """
    if not text:
        return text
    for host in hosts:
        if len(host) >= 3 and host.lower() in text.lower():
            text = re.sub(rf"(?<![\w-]){re.escape(host)}(?![\w-])", "[host]", text, flags=re.IGNORECASE)
    text = _SERIAL.sub(_serial, text)
    text = _UUID.sub("[uuid]", text)
    text = _MAC.sub(_mac, text)
    text = _IPV6.sub("[ip]", text)
    text = _IPV4.sub("[ip]", text)
    text = _PROMPT_HOST.sub(lambda m: f"{m.group(1)}@[host]", text)
    text = _UNAME.sub(lambda m: f"{m.group(1)} [host]", text)
    text = _EC2_ID.sub("i-[masked]", text)
    text = _HEXID.sub("[id]", text)
    text = _FQDN.sub(_fqdn, text)
    text = _DISK_ID.sub(lambda m: f"{m.group(1)}_[serial]", text)
    return _SERIAL_SHORT.sub(lambda m: f"{m.group(1)} [masked]", text)


def _mac(m: re.Match[str]) -> str:
    # Broadcast and all-zero addresses say nothing about a machine; keep them readable.
    if m.group(0).lower() in ("ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "ff-ff-ff-ff-ff-ff"):
        return m.group(0)
    sep = m.group(2)
    return f"{m.group(1)}{sep}xx{sep}xx{sep}xx"


def _fqdn(m: re.Match[str]) -> str:
    # Keep the provider's domain (contaboserver.net, vps.ovh.net tell where it runs), drop the host.
    parts = m.group(0).split(".")
    return "[host]." + ".".join(parts[-2:])


# Where a paste names its machine: prompts (`user@host`), neofetch headers, hostnamectl, uname,
# the container an exec enters.
_HOST_SOURCES = re.compile(
    r"(?<![\w.-])[\w.-]{1,64}@([\w-]{1,63})(?=[.:\s\]~]|$)"
    r"|(?im:^[ \t]*(?:Static|Transient|Pretty) hostname:[ \t]*([\w-]{1,63}))"
    r"|(?m:^Linux[ \t]+([\w-]{1,63})[ \t]+\d)"
    # The pod or container an exec enters: its name is that machine's host name.
    r"|\b(?:kubectl|oc|docker|podman|nerdctl|lxc|incus)[ \t]+(?:[^\n]{0,80}?[ \t])?exec[ \t]+(?:-\w{1,4}[ \t]+)*"
    r"([A-Za-z0-9][\w.-]{2,63})(?=[ \t])"
    r"|\b(?:multipass[ \t]+(?:shell|exec)|kcli[ \t]+ssh|limactl[ \t]+shell)[ \t]+([A-Za-z0-9][\w.-]{2,63})(?=[ \t]|$)"
)
NOT_HOSTS = frozenset(("localhost", "root", "host", "n/a", "none"))


def host_names(text: str, limit: int = 20, head: int = 200_000) -> tuple[str, ...]:
    """Distinct host names the start of a paste reveals (bounded work: the first `head` chars)."""
    found: dict[str, None] = {}
    for m in _HOST_SOURCES.finditer(text, 0, min(len(text), head)):
        name = next((g for g in m.groups() if g), "")
        if len(name) >= 3 and name.lower() not in NOT_HOSTS:
            found[name] = None
            if len(found) >= limit:
                break
    return tuple(found)
