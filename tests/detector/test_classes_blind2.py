"""The classes behind the misses blind2 showed when it was new (docs/detector-blind-eval.md),
each pinned in both directions: one-line sysfs / `dmidecode -s` values after any prompt,
VMware's `VMwareN,M` products, lsblk MODEL/VENDOR columns, NIC drivers (`ethtool -i`,
lshw, inxi), guest OUIs on a machine's own NIC versus a host's bridge-side interfaces,
`lshw -short`, multi-file `cat` of DMI files, the device-tree model (Asahi, Raspberry Pi).
"""

from __future__ import annotations

import pytest

from detector import analyze, segment

PROMPTS = (
    "$ ",
    "user@host:~$ ",
    "[user@host ~]$ ",
    "root@host:~# ",
    "# ",
    "host% ",
    "(venv) user@host:~/src$ ",
)
ONE_LINERS = (
    "cat /sys/class/dmi/id/product_name",
    "sudo cat /sys/devices/virtual/dmi/id/product_name",
    "sudo dmidecode -s system-product-name",
)


def signals(v) -> set[str]:
    return {e.signal for e in v.evidence}


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("command", ONE_LINERS)
@pytest.mark.parametrize(
    ("value", "verdict", "label"),
    [
        ("VMware7,1", "virtual", "vmware"),
        ("VMware20,1", "virtual", "vmware"),
        ("VMware Virtual Platform", "virtual", "vmware"),
        ("PowerEdge R750", "bare-metal", "dell"),
        ("ThinkSystem SR650 V2", "bare-metal", "lenovo"),
    ],
)
def test_one_line_product_after_any_prompt(prompt, command, value, verdict, label):
    v = analyze(f"here you go\n{prompt}{command}\n{value}\n")
    assert v.verdict == verdict, (prompt, command, value, v.evidence)
    assert label in (v.hypervisor, v.vendor)


def test_vmware_efi_product_names_through_other_tools():
    assert (
        analyze(
            " Static hostname: web\n  Hardware Vendor: VMware, Inc.\n  Hardware Model: VMware7,1\n"
        ).hypervisor
        == "vmware"
    )
    assert analyze("OS: Debian GNU/Linux 12\nHost: VMware20,1\nKernel: 6.1.0\n").verdict == "virtual"
    # A word merely starting with "VMware" is not a product.
    assert analyze("$ sudo dmidecode -s system-product-name\nVMwareless Box 3\n").verdict != "virtual"


def test_cat_of_several_dmi_files_maps_values_in_order():
    v = analyze(
        "$ cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name\nQEMU\nStandard PC (Q35 + ICH9, 2009)\n"
    )
    assert v.verdict == "virtual"
    v = analyze("$ cat /sys/class/dmi/id/{sys_vendor,product_version}\nLENOVO\nThinkCentre M90q Gen 3\n")
    assert (v.verdict, v.vendor) == ("bare-metal", "lenovo")
    # An empty file prints an empty line: the values after it keep their place.
    v = analyze(
        "$ cat /sys/class/dmi/id/product_family /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name\n\nDell Inc.\nOptiPlex 7090\n"
    )
    assert v.vendor == "dell"
    # Counts that do not fit are not guessed at.
    v = analyze("$ cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name\nDell Inc.\n")
    assert not any(e.signal.startswith("product-") for e in v.evidence)


def test_lsblk_vendor_and_model_columns():
    v = analyze(
        "$ lsblk -o NAME,SIZE,MODEL,VENDOR\nNAME   SIZE MODEL          VENDOR\nsda    40G  Virtual disk   VMware\n"
    )
    assert (v.verdict, v.hypervisor) == ("virtual", "vmware")
    assert {"disk-vmware", "disk-vendor-vmware"} <= signals(v)
    v = analyze("$ lsblk -o NAME,VENDOR,MODEL\nNAME VENDOR   MODEL\nsdb  Msft     Virtual Disk\n")
    assert (v.verdict, v.hypervisor) == ("virtual", "hyperv")
    v = analyze("$ lsblk -o NAME,MODEL,VENDOR\nNAME MODEL            VENDOR\nsr0  QEMU DVD-ROM     QEMU\n")
    assert v.verdict == "virtual"
    # Spaces squeezed by a chat client: the columns no longer line up, the row still reads.
    v = analyze("$ lsblk -o NAME,SIZE,MODEL,VENDOR\nNAME SIZE MODEL VENDOR\nsda 500G Virtual disk VMware\n")
    assert (v.verdict, v.hypervisor) == ("virtual", "vmware")
    # A physical disk's vendor column (ATA) is no guest sign; its model is passthrough-grade.
    v = analyze(
        "$ lsblk -o NAME,MODEL,VENDOR\nNAME MODEL                   VENDOR\nsda  Samsung SSD 870 EVO 1TB ATA\n"
    )
    assert v.verdict == "bare-metal" and v.confidence <= 0.65


@pytest.mark.parametrize(
    ("driver", "hypervisor"),
    [("vmxnet3", "vmware"), ("virtio_net", "kvm"), ("hv_netvsc", "hyperv"), ("xen-netfront", "xen")],
)
def test_guest_nic_drivers(driver, hypervisor):
    text = f"$ ethtool -i eth0\ndriver: {driver}\nversion: 1.0\nfirmware-version: \nbus-info: 0000:00:03.0\n"
    v = analyze(text)
    assert (v.verdict, v.hypervisor) == ("virtual", hypervisor)
    # Without the prompt, the ethtool block is still recognised.
    assert segment.split(text.split("\n", 1)[1])[0].tool == "ethtool"


def test_cloud_nic_drivers_name_their_provider():
    assert analyze("$ ethtool -i ens4\ndriver: gve\nversion: 1.0.0\n").provider == "gcp"
    assert analyze("$ ethtool -i ens5\ndriver: ena\nversion: 2.8\n").provider == "aws"
    # ENA is on *.metal too: the metal product silences it.
    v = analyze(
        "$ sudo dmidecode -s system-product-name\nc6i.metal\n$ ethtool -i ens5\ndriver: ena\nversion: 2.8\n"
    )
    assert (v.verdict, v.provider) == ("bare-metal", "aws")


def test_physical_nic_drivers_weigh_modestly():
    for driver in ("ixgbe", "mlx5_core", "r8169", "e1000e", "igb"):
        v = analyze(f"$ ethtool -i eno1\ndriver: {driver}\nversion: 6.1\n")
        assert v.verdict == "inconclusive", driver  # a passed-through card binds the same driver
    # A guest sign wins over a physical driver (passthrough), never bare metal.
    v = analyze("$ ethtool -i ens1\ndriver: ixgbe\nversion: 6.1\n$ systemd-detect-virt\nkvm\n")
    assert v.verdict == "virtual"
    # With another weak physical hint it becomes weak bare metal, capped.
    v = analyze("$ ethtool -i eno1\ndriver: ixgbe\nversion: 6.1\n$ systemd-detect-virt\nnone\n")
    assert v.verdict == "bare-metal" and v.confidence <= 0.65
    w_e1000e = next(e.weight for e in analyze("$ ethtool -i x\ndriver: e1000e\n").evidence)
    w_ixgbe = next(e.weight for e in analyze("$ ethtool -i x\ndriver: ixgbe\n").evidence)
    assert w_e1000e < w_ixgbe < 0.5  # QEMU and VMware emulate e1000e/igb


def test_host_side_drivers_are_not_guest_evidence():
    v = analyze(
        "$ ethtool -i vnet0\ndriver: tun\nversion: 1.6\n$ ethtool -i virbr0\ndriver: bridge\nversion: 2.3\n"
    )
    assert v.verdict == "inconclusive"
    assert {e.points_to for e in v.evidence} <= {"host-capability"}


@pytest.mark.parametrize(
    ("mac", "hypervisor"),
    [
        ("00:50:56:a1:b2:c3", "vmware"),
        ("00:0c:29:a1:b2:c3", "vmware"),
        ("08:00:27:a1:b2:c3", "virtualbox"),
        ("00:15:5d:a1:b2:c3", "hyperv"),
        ("00:16:3e:a1:b2:c3", "xen"),
        ("52:54:00:a1:b2:c3", "kvm"),
    ],
)
def test_guest_ouis_on_the_primary_nic_and_not_on_host_side_interfaces(mac, hypervisor):
    brief = f"$ ip -br link\nlo  UNKNOWN  00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\nens3  UP  {mac} <BROADCAST,MULTICAST,UP,LOWER_UP>\n"
    full = f"$ ip link\n2: enp1s0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    link/ether {mac} brd ff:ff:ff:ff:ff:ff\n"
    sysfs = f"$ grep . /sys/class/net/*/address\n/sys/class/net/eth0/address:{mac}\n"
    for text in (brief, full, sysfs):
        v = analyze(text)
        assert (v.verdict, v.hypervisor) == ("virtual", hypervisor), text
        assert all(mac not in e.text for e in v.evidence)  # masked beyond the OUI
    for side in ("vnet0", "virbr0", "vmnet8", "tap101i0", "veth1a2b3c", "vboxnet0", "macvtap0", "vif3.0"):
        v = analyze(f"$ ip -br link\n{side}  UNKNOWN  {mac} <BROADCAST,MULTICAST,UP,LOWER_UP>\n")
        assert v.verdict != "virtual", (side, mac)


def test_libvirt_host_with_its_guests_is_the_hardware_it_names():
    text = (
        "$ cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name\nSupermicro\nSuper Server\n"
        "$ ip -br link\neno1  UP  3c:ec:ef:10:20:30 <UP>\nvirbr0  UP  52:54:00:aa:bb:cc <UP>\n"
        "vnet3  UNKNOWN  fe:54:00:aa:bb:cd <UP>\n$ virsh list\n Id   Name   State\n 3    vm1    running\n"
    )
    v = analyze(text)
    assert (v.verdict, v.vendor) == ("bare-metal", "supermicro")
    assert "virsh-running" in signals(v) or any(e.points_to == "host-capability" for e in v.evidence)


def test_lshw_short_rows_and_lshw_device_nodes():
    short = "H/W path  Device  Class  Description\n==================\n          system  PowerEdge R650xs\n/0/100/1c/0/0  display  Integrated Matrox G200eW3 Graphics Controller\n"
    assert segment.split(short)[0].tool == "lshw"
    v = analyze(short)
    assert (v.verdict, v.vendor) == ("bare-metal", "dell") and "gpu-bmc" in signals(v)
    v = analyze(
        "$ sudo lshw -short\nH/W path Device Class Description\n system VMware Virtual Platform\n/0 bus 440BX Desktop Reference Platform\n"
    )
    assert (v.verdict, v.hypervisor) == ("virtual", "vmware")
    # `lshw -C network` starts at a device: its vendor is not the machine's maker.
    node = "$ sudo lshw -C network\n  *-network\n       product: Ethernet Controller X710\n       vendor: Intel Corporation\n       configuration: driver=i40e\n"
    v = analyze(node)
    assert not any(e.signal.startswith("dmi-vendor") for e in v.evidence)
    assert "nic-driver-physical" in signals(v)


def test_device_tree_model_names_the_board():
    v = analyze("$ cat /proc/device-tree/model\nApple MacBook Air (15-inch, M3, 2024)\n")
    assert (v.verdict, v.vendor) == ("bare-metal", "apple")
    v = analyze("$ cat /sys/firmware/devicetree/base/model\nRaspberry Pi 4 Model B Rev 1.5\n")
    assert (v.verdict, v.vendor) == ("bare-metal", "raspberrypi")
    # A QEMU virt machine's device tree says so.
    assert analyze("$ cat /proc/device-tree/model\nQEMU KVM Virtual Machine\n").verdict == "virtual"


def test_asahi_kernel_and_apple_core_names_are_hints_only():
    assert analyze("$ uname -r\n6.8.8-400.asahi.fc40.aarch64+16k\n").verdict == "inconclusive"
    assert (
        analyze("$ lscpu\nArchitecture: aarch64\nVendor ID: Apple\nModel name: Firestorm-M1\n").verdict
        == "inconclusive"
    )
    # A guest sign wins over them (a VM on a Mac).
    v = analyze("$ uname -r\n6.8.8-400.asahi.fc40.aarch64+16k\n$ systemd-detect-virt\napple\n")
    assert v.verdict == "virtual"
