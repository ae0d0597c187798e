#!/usr/bin/env bash
# Lists and checks a campus-kiosk .deb: control fields and dependencies,
# the exact set of files with their modes, the conffile, the maintainer
# scripts, the copyright file, that the programs are ELF for ARCH and run,
# that every library the programs link comes from a declared dependency,
# and that the unit, the udev rule and postinst agree on the user. Exit
# status 1 with every problem listed.
#
#   scripts/check-deb.sh FILE.deb [VERSION [ARCH]]
#
# Run from the repository root (it compares with configs/); scripts/package.sh
# runs it after building. Needs dpkg-deb; dpkg -S, readelf, objdump, go and
# systemd-analyze are used when present. A package for another architecture
# (arm64 on amd64) has its programs run under qemu-aarch64 when present, and
# its libraries looked up among the arm64 ones dpkg multiarch installed
# (make deps-arm64 installs both).
set -euo pipefail

deb=${1:?usage: check-deb.sh FILE.deb [VERSION [ARCH]]}
want_version=${2:-}
want_arch=${3:-$(go env GOARCH 2>/dev/null || dpkg --print-architecture)}

problems=0
fail() {
	echo "check-deb: FAIL: $*" >&2
	problems=$((problems + 1))
}
ok() { echo "check-deb: ok: $*"; }
# expect OK_TEXT FAIL_TEXT COMMAND...: ok or fail by COMMAND's status.
expect() {
	local good=$1 bad=$2
	shift 2
	if "$@"; then ok "$good"; else fail "$bad"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== dpkg-deb -I $deb"
dpkg-deb -I "$deb"
echo "== dpkg-deb -c $deb"
dpkg-deb -c "$deb" | tee "$tmp/list"
echo "== checks"

# --- control ------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
expect "Package: campus-kiosk" "Package is '$(field Package)', want campus-kiosk" \
	[ "$(field Package)" = campus-kiosk ]
expect "Architecture: $want_arch" "Architecture is '$(field Architecture)', want $want_arch" \
	[ "$(field Architecture)" = "$want_arch" ]
if [ -n "$want_version" ]; then
	expect "Version: $want_version" "Version is '$(field Version)', want $want_version" \
		[ "$(field Version)" = "$want_version" ]
fi
depends=$(field Depends)
# The kiosk's libraries: linked (libGL, libX11, glibc) and opened by GLFW at
# start-up (the rest); adduser for postinst.
for pkg in libc6 libgl1 libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1 libxrender1 adduser; do
	if [[ ", $depends," == *", $pkg"[,\ ]* ]]; then
		ok "Depends: $pkg"
	else
		fail "Depends lacks $pkg (Depends: $depends)"
	fi
done
# A Chinese font, one of those the kiosk looks for (ui/theme.go): without
# one every Chinese character on the screens is a box.
cjk="fonts-noto-cjk | fonts-wqy-microhei | fonts-wqy-zenhei"
if [[ ", $depends," == *", $cjk,"* ]]; then
	ok "Depends: $cjk"
else
	fail "Depends lacks '$cjk' (Depends: $depends)"
fi

# --- files: exactly these, with these modes and owners -------------------------
# "mode path"; directories end in /.
expected=(
	"-rwxr-xr-x ./usr/bin/kiosk"
	"-rwxr-xr-x ./usr/bin/kioskctl"
	"-rwxr-xr-x ./usr/bin/onecard-sim"
	"drwxr-x--- ./etc/campus-kiosk/"
	"-rw------- ./etc/campus-kiosk/kiosk.yaml"
	"-rw-r--r-- ./lib/systemd/system/campus-kiosk.service"
	"-rw-r--r-- ./lib/udev/rules.d/99-campus-kiosk.rules"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/OPERATOR.md"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/README.md"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/copyright"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/examples/kiosk.example.yaml"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/examples/prometheus/scrape.yml"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/examples/prometheus/agent.yml"
	"-rw-r--r-- ./usr/share/doc/campus-kiosk/examples/prometheus/kiosk-alerts.yml"
)
# dpkg-deb -c: "MODE OWNER/GROUP SIZE DATE TIME PATH".
awk '{print $1, $2, $6}' "$tmp/list" >"$tmp/files"
for e in "${expected[@]}"; do
	mode=${e%% *} path=${e#* }
	line=$(awk -v p="$path" '$3 == p' "$tmp/files")
	if [ -z "$line" ]; then
		fail "missing $path"
	elif [ "$line" != "$mode root/root $path" ]; then
		fail "$path is '$line', want '$mode root/root'"
	else
		ok "$mode root/root $path"
	fi
done
# Nothing else but the directories leading to those files.
while read -r mode owner path; do
	known=0
	for e in "${expected[@]}"; do
		p=${e#* }
		if [ "$path" = "$p" ] || { [[ $mode == d* ]] && [[ $p == "$path"* ]]; }; then
			known=1
			break
		fi
	done
	[ "$known" = 1 ] || fail "unexpected file in the package: $mode $owner $path"
done <"$tmp/files"

# --- control files: conffile, maintainer scripts ---------------------------------
dpkg-deb -e "$deb" "$tmp/control"
if grep -qx /etc/campus-kiosk/kiosk.yaml "$tmp/control/conffiles" 2>/dev/null; then
	ok "conffiles: /etc/campus-kiosk/kiosk.yaml"
else
	fail "/etc/campus-kiosk/kiosk.yaml is not a conffile (conffiles: $(cat "$tmp/control/conffiles" 2>/dev/null || echo none))"
fi
expect "md5sums" "no md5sums" [ -s "$tmp/control/md5sums" ]
for s in postinst prerm postrm; do
	f=$tmp/control/$s
	if [ ! -x "$f" ]; then
		fail "maintainer script $s missing or not executable"
	elif ! sh -n "$f"; then
		fail "maintainer script $s: syntax error"
	elif ! head -n1 "$f" | grep -qx '#!/bin/sh' || ! grep -qx 'set -e' "$f"; then
		fail "maintainer script $s: want #!/bin/sh and set -e"
	else
		ok "maintainer script $s"
	fi
done

# --- the files themselves ----------------------------------------------------------
dpkg-deb -x "$deb" "$tmp/root"
r=$tmp/root
expect "/etc/campus-kiosk/kiosk.yaml is configs/kiosk.example.yaml" \
	"/etc/campus-kiosk/kiosk.yaml differs from configs/kiosk.example.yaml" \
	cmp -s "$r/etc/campus-kiosk/kiosk.yaml" configs/kiosk.example.yaml

# The copyright file (packaging/copyright): machine-readable (DEP-5), the
# project under Apache-2.0 with the common-licenses copy named, and a Files
# paragraph for every Go module the programs were built with: go version -m
# reads a program's build information whatever its architecture, so a new
# dependency cannot ship unlisted.
copyright=$r/usr/share/doc/campus-kiosk/copyright
if [ -f "$copyright" ]; then
	expect "copyright: DEP-5 (Format: copyright-format/1.0)" \
		"copyright: the first line is not 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'" \
		[ "$(head -n1 "$copyright")" = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" ]
	# Paragraphs are separated by empty lines; awk's RS= reads one at a time.
	expect "copyright: Files: * under Apache-2.0" "copyright: no 'Files: *' paragraph with 'License: Apache-2.0'" \
		grep -q . <(awk -v RS= '/^Files: \*\n/ && /\nLicense: Apache-2.0(\n|$)/' "$copyright")
	expect "copyright: Apache-2.0 points to /usr/share/common-licenses/Apache-2.0" \
		"copyright: no 'License: Apache-2.0' paragraph naming /usr/share/common-licenses/Apache-2.0" \
		grep -q . <(awk -v RS= '/^License: Apache-2.0\n/ && /\/usr\/share\/common-licenses\/Apache-2.0/' "$copyright")
	if command -v go >/dev/null 2>&1; then
		# The Files fields' patterns, one a line (continuation lines too).
		awk '/^Files:/ {f = 1; sub(/^Files:/, ""); print; next} /^ / && f {print; next} {f = 0}' "$copyright" |
			tr ' ' '\n' | sed -n 's|/\*$||p' | sort -u >"$tmp/copyright-files"
		for cmd in kiosk kioskctl onecard-sim; do
			go version -m "$r/usr/bin/$cmd" | awk '$1 == "dep" {print $2}'
		done | sort -u >"$tmp/modules"
		unlisted=$(comm -23 "$tmp/modules" "$tmp/copyright-files" | tr '\n' ' ')
		if [ ! -s "$tmp/modules" ]; then
			fail "copyright: go version -m found no modules in the programs"
		elif [ -n "$unlisted" ]; then
			fail "copyright: no Files paragraph (MODULE/*) for the modules $unlisted(add them to packaging/copyright)"
		else
			ok "copyright: names all $(wc -l <"$tmp/modules") Go modules the programs were built with"
		fi
	else
		echo "check-deb: skipped: the copyright file's module list against the programs (no go)"
	fi
fi

# The programs are ELF executables for the package's architecture, with
# that architecture's dynamic loader (readelf reads any architecture's ELF).
case $want_arch in
amd64) elf_machine="Advanced Micro Devices X86-64" elf_interp=/lib64/ld-linux-x86-64.so.2 triplet=x86_64-linux-gnu ;;
arm64) elf_machine=AArch64 elf_interp=/lib/ld-linux-aarch64.so.1 triplet=aarch64-linux-gnu ;;
*) elf_machine='' elf_interp='' triplet='' ;;
esac
if [ -z "$elf_machine" ]; then
	fail "no ELF machine known for architecture $want_arch"
elif command -v readelf >/dev/null 2>&1; then
	for cmd in kiosk kioskctl onecard-sim; do
		machine=$(readelf -h "$r/usr/bin/$cmd" 2>/dev/null | sed -n 's/^ *Machine: *//p')
		interp=$(readelf -l "$r/usr/bin/$cmd" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
		if [ "$machine" = "$elf_machine" ] && [ "$interp" = "$elf_interp" ]; then
			ok "$cmd: ELF for $machine, loader $interp"
		else
			fail "$cmd: ELF machine '$machine', loader '$interp'; want '$elf_machine', '$elf_interp' for $want_arch"
		fi
	done
else
	echo "check-deb: skipped: the ELF architecture check (no readelf)"
fi

# Each program starts and prints its usage (no display, config or network
# needed), so the binary is whole and its libraries resolve on this machine.
# kioskctl prints it when given no command (and exits 2). Programs of another
# architecture run under qemu's user-mode emulator (qemu-aarch64 from
# qemu-user, with the arm64 libraries from dpkg multiarch: make deps-arm64),
# or are skipped without it.
runner=() can_run=1
if [ "$want_arch" != "$(dpkg --print-architecture 2>/dev/null || go env GOHOSTARCH)" ]; then
	case $want_arch in
	arm64) qemu="qemu-aarch64" ;;
	*) qemu=qemu-$want_arch ;;
	esac
	if command -v "$qemu" >/dev/null 2>&1; then
		runner=("$qemu")
	else
		can_run=0
		echo "check-deb: skipped: running the $want_arch programs (no $qemu here: make deps-arm64 installs qemu-user)"
	fi
fi
for run in "kiosk --help" "kioskctl" "onecard-sim --help"; do
	[ "$can_run" = 1 ] || break
	cmd=${run%% *}
	# shellcheck disable=SC2086 # run holds the program and its flag
	"${runner[@]}" "$r/usr/bin/"$run >"$tmp/help" 2>&1 || true
	if grep -q "^usage: $cmd" "$tmp/help"; then
		ok "${runner[*]:+${runner[*]} }$run: prints its usage"
	else
		fail "${runner[*]:+${runner[*]} }$run: $(head -n3 "$tmp/help")"
	fi
done

# Every shared library the programs link must come from a package in Depends
# (or be part of libc6). dpkg -S names the package that owns a library.
# lib_owner SONAME: the package that owns the library the loader finds,
# trying the path as ldconfig gives it, its real path, and the other side of
# the /usr merge (dpkg knows a file by the path its package ships it at).
# The loader's cache lists only this machine's architecture: another's
# (arm64, installed through dpkg multiarch) is looked for in its multiarch
# directories.
lib_owner() {
	local path real p
	path=$(ldconfig -p | awk -v l="$1" -v t="/$triplet/" '$1 == l && index($NF, t) {print $NF; exit}')
	if [ -z "$path" ] && [ -n "$triplet" ]; then
		for p in "/lib/$triplet/$1" "/usr/lib/$triplet/$1"; do
			if [ -e "$p" ]; then
				path=$p
				break
			fi
		done
	fi
	[ -n "$path" ] || return 0
	real=$(readlink -f "$path")
	for p in "$path" "$real" "${path#/usr}" "${real#/usr}" "/usr$path" "/usr$real"; do
		if dpkg -S "$p" >/dev/null 2>&1; then
			dpkg -S "$p" | head -n1 | cut -d: -f1
			return 0
		fi
	done
}
if command -v dpkg >/dev/null 2>&1 && command -v objdump >/dev/null 2>&1; then
	for cmd in kiosk kioskctl onecard-sim; do
		for lib in $(objdump -p "$r/usr/bin/$cmd" | awk '$1 == "NEEDED" {print $2}'); do
			owner=$(lib_owner "$lib")
			if [ -z "$owner" ]; then
				fail "$cmd needs $lib, which no installed package provides here"
			elif [[ ", $depends," == *", $owner"[,\ ]* ]]; then
				ok "$cmd needs $lib ($owner, in Depends)"
			else
				fail "$cmd needs $lib from $owner, which Depends lacks"
			fi
		done
	done
else
	echo "check-deb: skipped: the NEEDED-libraries check (no dpkg or objdump)"
fi

# The unit's user, the udev rule's group and postinst's user are one name.
unit=$r/lib/systemd/system/campus-kiosk.service
rules=$r/lib/udev/rules.d/99-campus-kiosk.rules
user=$(sed -n 's/^User=//p' "$unit")
groups=$(grep -o 'GROUP="[^"]*"' "$rules" | sort -u | cut -d'"' -f2 | tr '\n' ' ')
pi_user=$(sed -n 's/^KIOSK_USER=//p' "$tmp/control/postinst")
if [ "$user" = campus-kiosk ] && [ "$groups" = "campus-kiosk " ] && [ "$pi_user" = campus-kiosk ]; then
	ok "unit User=, udev GROUP= and postinst's user are all campus-kiosk"
else
	fail "user mismatch: unit User=$user, udev GROUP=$groups, postinst KIOSK_USER=$pi_user"
fi
expect "unit starts /usr/bin/kiosk with /etc/campus-kiosk/kiosk.yaml" \
	"unit's ExecStart is not /usr/bin/kiosk --config /etc/campus-kiosk/kiosk.yaml" \
	grep -q '^ExecStart=/usr/bin/kiosk --config /etc/campus-kiosk/kiosk.yaml$' "$unit"
expect "unit sets Environment=LANG=C.UTF-8" "unit lacks Environment=LANG=C.UTF-8 (a bare unit runs in the C locale)" \
	grep -qx 'Environment=LANG=C.UTF-8' "$unit"

# systemd-analyze verify: every directive known and well-formed. It also
# wants ExecStart's program on this machine; where the package is not
# installed that one complaint is expected (the program is in the package,
# checked above) and dropped.
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$unit" >"$tmp/verify" 2>&1 || true
	if [ ! -x /usr/bin/kiosk ]; then
		grep -v '^campus-kiosk.service: Command /usr/bin/kiosk is not executable: No such file or directory$' \
			"$tmp/verify" >"$tmp/verify2" || true
		mv "$tmp/verify2" "$tmp/verify"
	fi
	if [ ! -s "$tmp/verify" ]; then
		ok "systemd-analyze verify campus-kiosk.service"
	else
		fail "systemd-analyze verify: $(cat "$tmp/verify")"
	fi
else
	echo "check-deb: skipped: systemd-analyze verify (not installed)"
fi

echo "== $deb: $(wc -l <"$tmp/files") entries, $(du -h "$deb" | cut -f1)"
if [ "$problems" -gt 0 ]; then
	echo "check-deb: $problems problem(s)" >&2
	exit 1
fi
echo "check-deb: all checks passed"
