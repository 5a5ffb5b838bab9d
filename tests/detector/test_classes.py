"""The classes of problems found by the blind evaluation, each checked in both directions.

Fixture folders under tests/fixtures/dumps/ carry the realistic pastes (inxi 3.x, fastfetch,
neofetch with its logo, lshw, hostnamectl, sysfs/dmidecode -s one-liners, lsblk/hdparm/
smartctl, OpenVZ/Kubernetes/Incus/Proxmox CT/podman, weak hints, Asahi); these tests pin
the rules behind them: weights, notes, `missing`, precedence and masking.
"""

from __future__ import annotations

from detector import analyze, redact, segment

SDV_NONE = "$ systemd-detect-virt\nnone\n"
GREP_EMPTY = "$ sudo dmesg | grep -i hypervisor\n$ uptime\n 10:02:11 up 3 days\n"
LSBLK = "$ lsblk -o NAME,MODEL\nNAME MODEL\nsda  Samsung SSD 870 EVO 1TB\n"


def signals(v) -> set[str]:
    return {e.signal for e in v.evidence}


# ---------------------------------------------------------------- section recognition


def test_hostnamectl_architecture_does_not_open_an_lscpu_section():
    text = " Static hostname: n1\n    Architecture: x86-64\n Hardware Vendor: Lenovo\n  Hardware Model: ThinkSystem SR630\n"
    tools = [s.tool for s in segment.split(text)]
    assert tools == ["hostnamectl"]
    v = analyze(text)
    assert (v.verdict, v.vendor) == ("bare-metal", "lenovo")


def test_lscpu_architecture_still_opens_lscpu():
    assert [s.tool for s in segment.split("Architecture:   x86_64\nCPU(s): 4\n")] == ["lscpu"]


def test_inxi3_section_names_alone_are_inxi_and_one_line_layout_too():
    three = "Machine:\n  Type: Kvm System: QEMU product: Standard PC (i440FX + PIIX, 1996)\n"
    one = "Machine:   Type: Kvm System: QEMU product: Standard PC (i440FX + PIIX, 1996) v: pc-i440fx-7.2\n"
    for text in (three, one):
        assert segment.split(text)[0].tool == "inxi"
        assert analyze(text).verdict == "virtual"
    # A word followed by a colon alone on a line is not inxi without inxi fields below it.
    assert segment.split("System:\nplease help\n")[0].tool == "other"


def test_fetch_needs_os_and_host_or_kernel_nearby_and_ignores_bios_lines():
    assert [s.tool for s in segment.split("OS: Ubuntu 22.04\nHost: PowerEdge R720\n")] == ["fetch"]
    assert analyze("OS: Ubuntu 22.04\nHost: PowerEdge R720\n").vendor == "dell"
    # inxi's `BIOS:` holds "OS:" but is no fetch block; a lone "OS:" line is prose.
    assert all(s.tool != "fetch" for s in segment.split("  BIOS: SeaBIOS\n  Kernel: 6.1\n"))
    assert all(s.tool != "fetch" for s in segment.split("OS: Debian\nI run this on it\n"))


def test_lsblk_smartctl_hdparm_are_read_without_prompts():
    assert segment.split("NAME   MODEL\nsda    QEMU HARDDISK\n")[0].tool == "disks"
    assert analyze("NAME   MODEL\nsda    QEMU HARDDISK\n").verdict == "virtual"
    assert segment.split("Device Model:     ST4000VN008-2DR166\n")[0].tool == "disks"


# ---------------------------------------------------------------- positive bare-metal evidence


def test_product_lines_name_the_vendor_and_hp_is_not_hpe():
    cases = {
        "PowerEdge R620": "dell",
        "OptiPlex 7090": "dell",
        "ProLiant DL360 Gen10": "hpe",
        "HP EliteDesk 800 G4 DM 65W": "hp",
        "ThinkCentre M720q": "lenovo",
        "NUC10i7FNH": "intel",
        "MS-7C56": "msi",
        "X11DPi-NT": "supermicro",
        "PRIMERGY RX2540 M5": "fujitsu",
        "MacBookPro16,1": "apple",
    }
    for product, vendor in cases.items():
        v = analyze(f"$ sudo dmidecode -s system-product-name\n{product}\n")
        assert (v.verdict, v.vendor) == ("bare-metal", vendor), (product, v)
    assert analyze("$ cat /sys/class/dmi/id/sys_vendor\nHPE\n").vendor == "hpe"
    assert analyze("$ cat /sys/class/dmi/id/sys_vendor\nHP\n").vendor == "hp"


def test_product_words_in_a_guest_do_not_win():
    v = analyze("$ sudo dmidecode -s system-product-name\nOptiPlex 7090\n$ lscpu\nHypervisor vendor: KVM\n")
    assert v.verdict == "virtual"


def test_passthrough_devices_alone_give_modest_bare_metal_with_a_note():
    v = analyze(LSBLK)
    assert v.verdict == "bare-metal"
    assert 0.5 <= v.confidence <= 0.65
    assert any("passed through" in n for n in v.notes)
    assert v.missing[:2] == ("sudo dmidecode -t system", "systemd-detect-virt")


def test_a_guest_signal_beats_a_passed_through_disk_and_gpu():
    lspci = "$ lspci\n01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090]\n"
    v = analyze(LSBLK + lspci + "$ systemd-detect-virt\nkvm\n")
    assert v.verdict == "virtual"
    v = analyze(LSBLK + "$ lscpu\nHypervisor vendor: KVM\nVirtualization type: full\n")
    assert v.verdict == "virtual"


def test_a_dmi_vendor_is_not_capped_like_a_disk():
    v = analyze("$ cat /sys/class/dmi/id/product_name\nPowerEdge R640\n" + LSBLK)
    assert v.verdict == "bare-metal" and v.vendor == "dell"
    assert not any("passed through" in n for n in v.notes)
    assert v.confidence > 0.65


def test_emulated_devices_are_not_physical():
    v = analyze(
        "$ lspci\n00:03.0 Ethernet controller: Intel Corporation 82540EM Gigabit Ethernet Controller\n"
    )
    assert "pci-nic-physical" not in signals(v)
    v = analyze(
        "$ lspci\n00:10.0 SCSI storage controller: Broadcom / LSI 53c1030 PCI-X Fusion-MPT Dual Ultra320 SCSI\n"
    )
    assert v.verdict != "bare-metal"
    v = analyze("$ smartctl -i /dev/sda\nDevice Model:     QEMU HARDDISK\nSMART support is: Unavailable\n")
    assert v.verdict == "virtual"


# ---------------------------------------------------------------- weak hints


def test_none_plus_empty_hypervisor_grep_is_weak_bare_metal():
    v = analyze(SDV_NONE + GREP_EMPTY)
    assert v.verdict == "bare-metal"
    assert v.confidence <= 0.6
    assert "sudo dmidecode -t system" in v.missing
    assert {"sdv-none", "dmesg-grep-hypervisor-empty"} <= signals(v)


def test_one_weak_hint_alone_stays_inconclusive():
    assert analyze(SDV_NONE).verdict == "inconclusive"
    assert analyze(GREP_EMPTY).verdict == "inconclusive"


def test_weak_hints_never_outvote_a_guest_sign():
    flags = "$ grep -m1 flags /proc/cpuinfo\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov sse sse2 hypervisor\n"
    assert analyze(SDV_NONE + GREP_EMPTY + flags).verdict == "virtual"


def test_a_grep_that_printed_lines_is_not_empty():
    text = SDV_NONE + "$ dmesg | grep -i hypervisor\n[    0.000000] Hypervisor detected: KVM\n"
    assert analyze(text).verdict == "virtual"


# ---------------------------------------------------------------- containers


def test_container_evidence_outranks_host_looking_hardware():
    text = (
        "$ ip a\n2: venet0: <BROADCAST,POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1500\n    link/void\n"
        "$ cat /sys/class/dmi/id/sys_vendor\nDell Inc.\n"
    )
    v = analyze(text)
    assert (v.verdict, v.hypervisor) == ("container", "openvz")


def test_openvz_host_markers_silence_the_shared_kernel():
    v = analyze(
        "$ uname -r\n3.10.0-1160.80.1.vz7.191.4\n$ cat /proc/user_beancounters\n  0:  kmemsize  1 2 3 4 0\n"
    )
    assert v.verdict != "container"


def test_ls_proc_vz_listing_is_openvz_but_a_missing_dir_is_not():
    assert analyze("$ ls /proc/vz\nveinfo  vzaquota\n").hypervisor == "openvz"
    missing = analyze("$ ls /proc/vz\nls: cannot access '/proc/vz': No such file or directory\n")
    assert missing.verdict == "inconclusive"


def test_kubernetes_and_containerd_and_proxmox_ct():
    assert analyze("$ env\nKUBERNETES_SERVICE_HOST=10.43.0.1\n").verdict == "container"
    cg = "$ cat /proc/self/cgroup\n0::/system.slice/containerd.service/cri-containerd-3f2a9c.scope\n"
    assert analyze(cg).verdict == "container"
    mount = "$ mount | head -1\n/dev/mapper/pve-vm--201--disk--0 on / type ext4 (rw,relatime)\n"
    v = analyze(mount)
    assert (v.verdict, v.hypervisor, v.provider) == ("container", "lxc", "proxmox")
    # The host mounts lxcfs under /var/lib/lxcfs: that is not a container.
    host = "$ mount | grep lxcfs\nlxcfs on /var/lib/lxcfs type fuse.lxcfs (rw,nosuid,nodev,relatime)\n"
    assert analyze(host).verdict != "container"


# ---------------------------------------------------------------- labels


def test_family_virtual_machine_is_not_hyperv_under_bhyve():
    text = "System Information\n\tManufacturer: FreeBSD\n\tProduct Name: BHYVE\n\tFamily: Virtual Machine\n"
    v = analyze(text)
    assert (v.verdict, v.hypervisor) == ("virtual", "bhyve")
    assert "dmi-hyperv-vm" not in signals(v)
    hyperv = "System Information\n\tManufacturer: Microsoft Corporation\n\tProduct Name: Virtual Machine\n"
    assert analyze(hyperv).hypervisor == "hyperv"


def test_vmware_virtual_disk_is_not_hyperv():
    v = analyze("$ lsblk -o NAME,MODEL\nNAME MODEL\nsda  Virtual disk\n")
    assert v.hypervisor == "vmware"
    assert "disk-hyperv" not in signals(v)
    assert analyze("$ lsblk -o NAME,MODEL\nNAME MODEL\nsda  Virtual Disk\n").hypervisor == "hyperv"


def test_windows_only_paste_has_no_zos_answer_but_linux_tools_do():
    win = "Host Name: PC1\nOS Name: Microsoft Windows 11 Pro\nSystem Manufacturer: Dell Inc.\nSystem Model: OptiPlex 7080\n"
    assert analyze(win).zos_flags_virtual is None
    assert analyze(win + "$ sudo virt-what\n$ uptime\n").zos_flags_virtual is False


# ---------------------------------------------------------------- masking


def test_public_constants_and_versions_stay_readable():
    keep = [
        "Asset Tag: OracleCloud.com",
        "Asset Tag: 7783-7084-3265-9085-8269-3286-77",
        "Asset Tag: Amazon EC2",
        "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@buildhost) #1 SMP",
        "vmxnet3 0000:0b:00.0: version 1.7.0.0-k-NAPI",
        "Mobo: ASRock model: B450M Pro4 serial: <superuser required>",
        "    link/ether 52:54:00:aa:bb:cc brd ff:ff:ff:ff:ff:ff",
    ]
    out = [redact(t) for t in keep]
    assert "OracleCloud.com" in out[0]
    assert "7783-7084-3265-9085-8269-3286-77" in out[1]
    assert "Amazon EC2" in out[2]
    assert "5.15.153.1-microsoft-standard-WSL2" in out[3] and "buildhost" not in out[3]
    assert "1.7.0.0-k-NAPI" in out[4]
    assert out[5].endswith("serial: <superuser required>")
    assert "brd ff:ff:ff:ff:ff:ff" in out[6] and "aa:bb:cc" not in out[6]


def test_real_identifiers_are_still_masked():
    masked = {
        "Serial Number: 7QKX8M2": "7QKX8M2",
        "Asset Tag: ACME-004471": "ACME-004471",
        "UUID: 4c4c4544-0051-4b10-8058-b7c04f384d32": "4c4c4544",
        "inet 203.0.113.47/24 brd 203.0.113.255 scope global eth0": "203.0.113.47",
        "link/ether d8:9e:f3:7a:11:02 brd ff:ff:ff:ff:ff:ff": "7a:11:02",
        "Mobo: Dell model: 0YNVJG serial: .4B2X7Q3.CN1296": "4B2X7Q3",
        "root@farm-node-07:~# lscpu": "farm-node-07",
    }
    for line, secret in masked.items():
        assert secret not in redact(line), line


def test_a_host_named_after_its_model_is_masked_in_evidence():
    v = analyze(
        "sam@m920q\n---------\nOS: Ubuntu 24.04 LTS x86_64\nHost: 10T1S0X900 ThinkCentre M920q\nKernel: 6.8.0\n"
    )
    assert v.vendor == "lenovo"
    assert all("m920q" not in e.text.lower() for e in v.evidence)
    assert any("ThinkCentre" in e.text for e in v.evidence)
