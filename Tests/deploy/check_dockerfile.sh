#!/usr/bin/env bash
# Checks what the Dockerfile relies on, without a Docker engine:
#
# 1. The runtime stage (the last FROM) is debian:bookworm-slim and declares a non-root USER,
#    a VOLUME, EXPOSE, a HEALTHCHECK on /healthz, a STOPSIGNAL, and its config under /etc/mmapd.
# 2. Every shared library the release binary loads (ldd) comes from a Debian package (dpkg -S)
#    that the runtime stage gets:
#    - a library the binary links directly (ELF NEEDED) must come from a package that the
#      stage's `apt-get install` names, or from the Essential set every Debian image has
#      (libc6, libgcc-s1, ... and what Essential packages depend on);
#    - a library pulled in by another library may also come from a dependency of a listed
#      package (libgnutls30 through libmicrohttpd12).
#    Packages that are in bookworm-slim only because apt needs them (libstdc++6) do not count:
#    apt is not Essential, and a binary must not depend on the package manager staying in.
# 3. The binary was linked with --static-swift-stdlib (no libswift*, libFoundation*, libdispatch).
# 4. The runtime steps, run another way: the binary as an unprivileged user (uid/gid 65534),
#    MMAPD_CONFIG at a copy of config/mmapd.json under an etc/mmapd directory, MMAPD_HOST
#    127.0.0.1, MMAPD_ROOT a temporary directory; /healthz and a file answer 200; the
#    STOPSIGNAL makes it exit 0 within the configured shutdownGrace; the HEALTHCHECK's own command
#    passes.
# 5. The same with HTTPS on (MMAPD_TLS_CERT/KEY, a certificate made with openssl): the startup line
#    says https and the HEALTHCHECK's own command still passes.
#
# Usage: Tests/deploy/check_dockerfile.sh   (builds .build/release/mmapd with
#        --static-swift-stdlib first, which takes minutes; or MMAPD_BIN=path/to/release/mmapd)
# Needs: the Debian bookworm host this project builds on (dpkg, ldd, readelf, setpriv or
# runuser, curl). Run as root for step 4's user switch; otherwise step 4 runs as the caller.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dockerfile=${DOCKERFILE:-$repo/Dockerfile}
config="$repo/config/mmapd.json"
failures=0

say() { printf 'docker-check: %s\n' "$*"; }
bad() { printf 'docker-check: FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
die() { printf 'docker-check: FAIL: %s\n' "$*" >&2; exit 1; }

for tool in dpkg dpkg-query ldd readelf curl python3; do
    command -v "$tool" >/dev/null || die "needs $tool"
done
[[ -f $dockerfile ]] || die "no Dockerfile at $dockerfile"
if ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    say "WARNING: this host is not Debian bookworm; package names and versions may differ from the image's"
fi

# --- 1. the runtime stage -------------------------------------------------------------------
# Instructions of the last stage, one per line, continuation lines joined, comments dropped.
runtime=$(python3 - "$dockerfile" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
lines, current = [], ""
for raw in text.splitlines():
    if not current and re.match(r"\s*#", raw):
        continue
    if raw.rstrip().endswith("\\"):
        current += raw.rstrip()[:-1] + " "
        continue
    current += raw
    if current.strip():
        lines.append(" ".join(current.split()))
    current = ""
starts = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
print("\n".join(lines[starts[-1]:] if starts else []))
EOF
)
[[ -n $runtime ]] || die "no FROM in $dockerfile"
instruction() { grep -i "^$1 " <<<"$runtime" || true; }

from=$(instruction FROM | head -n 1)
[[ $from =~ ^FROM\ debian:bookworm-slim($|\ ) ]] || bad "runtime stage is '$from', expected 'FROM debian:bookworm-slim'"

user=$(instruction USER | tail -n 1 | awk '{print $2}')
user_name=${user%%:*}
if [[ -z $user_name ]]; then
    bad "runtime stage has no USER (it would run as root)"
elif [[ $user_name == root || $user_name == 0 ]]; then
    bad "runtime stage runs as root (USER $user)"
elif [[ ! $user_name =~ ^[0-9]+$ ]] && ! grep -Eq "(useradd|adduser)[^&;]* $user_name( |$)" <<<"$runtime"; then
    bad "USER $user_name is never created (no useradd/adduser in the runtime stage)"
fi
[[ -n $(instruction VOLUME) ]] || bad "runtime stage declares no VOLUME for the data"
expose=$(instruction EXPOSE)
[[ -n $expose ]] || bad "runtime stage declares no EXPOSE"
healthcheck=$(instruction HEALTHCHECK)
[[ $healthcheck == *"/healthz"* ]] || bad "HEALTHCHECK does not probe /healthz: '${healthcheck:-none}'"
stopsignal=$(instruction STOPSIGNAL | awk '{print $2}')
case ${stopsignal:-} in
    SIGTERM | SIGINT | TERM | INT | 15 | 2) ;;
    "") bad "runtime stage declares no STOPSIGNAL" ;;
    *) bad "STOPSIGNAL $stopsignal is neither SIGTERM nor SIGINT, which mmapd drains on" ;;
esac
grep -Eiq '^COPY .* /etc/mmapd(/|$)' <<<"$runtime" || bad "no COPY of the config into /etc/mmapd"
grep -Eq 'MMAPD_CONFIG=/etc/mmapd/' <<<"$runtime" || bad "ENV MMAPD_CONFIG does not point into /etc/mmapd"

# The packages of every `apt-get install` in the runtime stage.
packages=$(python3 - <<EOF
import re, shlex
names = []
for line in """$runtime""".splitlines():
    for command in re.split(r"&&|;|\|\|", line):
        words = shlex.split(command)
        if "apt-get" in words and "install" in words:
            names += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
print(" ".join(names))
EOF
)
[[ -n $packages ]] || bad "the runtime stage installs no packages with apt-get install"
say "runtime stage installs: $packages"
if [[ $healthcheck == *curl* && " $packages " != *" curl "* ]]; then
    bad "HEALTHCHECK uses curl but the runtime stage does not install it"
fi

# --- package closures from this host's dpkg database ------------------------------------------
declare -A installed=()
while read -r name status; do
    [[ $status == installed ]] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n')

# closure NAME...: the names and, recursively, their Depends/Pre-Depends (first installed alternative).
closure() {
    local -A seen=()
    local queue=("$@") name deps alternative chosen
    while ((${#queue[@]})); do
        name=${queue[0]}; queue=("${queue[@]:1}")
        [[ -n ${seen[$name]:-} ]] && continue
        seen[$name]=1
        [[ -n ${installed[$name]:-} ]] || continue
        deps=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$name" 2>/dev/null | head -n 1)
        IFS=',' read -ra groups <<<"$deps"
        for group in "${groups[@]}"; do
            chosen=
            IFS='|' read -ra alternatives <<<"$group"
            for alternative in "${alternatives[@]}"; do
                alternative=$(sed -E 's/\(.*\)//; s/:any//; s/[[:space:]]//g' <<<"$alternative")
                [[ -n $alternative && -n ${installed[$alternative]:-} ]] && { chosen=$alternative; break; }
            done
            [[ -n $chosen ]] && queue+=("$chosen")
        done
    done
    printf '%s\n' "${!seen[@]}"
}

essential=$(dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2 == "yes" {print $1}')
# shellcheck disable=SC2086
guaranteed=$(closure $essential | sort -u)
# shellcheck disable=SC2086
provided=$(closure $packages $essential | sort -u)
for package in $packages; do
    [[ -n ${installed[$package]:-} ]] || say "WARNING: $package is not installed on this host; its dependencies are not followed"
done

# --- 2./3. the binary ---------------------------------------------------------------------------
if [[ -n ${MMAPD_BIN:-} ]]; then
    bin=$MMAPD_BIN
else
    say "building the release binary (swift build -c release --static-swift-stdlib --product mmapd)"
    (cd "$repo" && swift build -c release --static-swift-stdlib --product mmapd)
    bin="$repo/.build/release/mmapd"
fi
[[ -x $bin ]] || die "no binary at $bin"

needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
swift_runtime=$(grep -E '^lib(swift|Foundation|dispatch|BlocksRuntime)' <<<"$needed" || true)
[[ -z $swift_runtime ]] || bad "the binary needs the Swift runtime as shared libraries ($(tr '\n' ' ' <<<"$swift_runtime")): build it with --static-swift-stdlib"

# package_of PATH: the Debian package that owns a library (merged /usr: try both spellings).
package_of() {
    local path=$1 candidate owner
    for candidate in "$path" "$(readlink -f "$path")" "/usr${path#/usr}" "${path#/usr}"; do
        [[ $candidate == /* ]] || candidate="/$candidate"
        owner=$(dpkg -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1) || true
        [[ -n $owner ]] && { echo "$owner"; return; }
    done
}

ldd_output=$(ldd "$bin") || die "ldd failed on $bin"
used_packages=()
grep -q 'not found' <<<"$ldd_output" && bad "unresolved libraries on this host: $(grep 'not found' <<<"$ldd_output" | tr -s ' \t' ' ')"
while read -r soname path; do
    [[ -n $soname ]] || continue
    package=$(package_of "$path")
    if [[ -z $package ]]; then
        bad "$soname ($path) belongs to no Debian package"
        continue
    fi
    if grep -qxF "$soname" <<<"$needed"; then
        if grep -qxF "$package" <<<"$guaranteed" || [[ " $packages " == *" $package "* ]]; then
            say "ok  $soname  <- $package (linked directly)"
        else
            bad "$soname is linked directly and comes from $package, which the runtime stage must install explicitly"
        fi
    elif grep -qxF "$package" <<<"$provided"; then
        say "ok  $soname  <- $package (dependency)"
    else
        bad "$soname comes from $package, which nothing in the runtime stage installs"
    fi
    used_packages+=("$package")
done < <(awk '/=>/ {print $1, $3} !/=>/ && $1 ~ /^\// {n=split($1, p, "/"); print p[n], $1}' <<<"$ldd_output")

# Packages the stage installs that no library of the binary comes from: fine for tools the image
# itself uses (curl for the HEALTHCHECK), otherwise weight the image could drop.
for package in $packages; do
    [[ " ${used_packages[*]} " == *" $package "* ]] && continue
    [[ $healthcheck == *"$package"* ]] && continue
    say "WARNING: the runtime stage installs $package, which the binary does not load and the HEALTHCHECK does not use"
done

# --- 4. the runtime steps, another way ----------------------------------------------------------
work=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
mkdir -p "$work/etc/mmapd" "$work/bin" "$work/data"
install -m 0755 "$bin" "$work/bin/mmapd"
install -m 0644 "$config" "$work/etc/mmapd/mmapd.json"
printf 'hello from the volume\n' >"$work/data/hello.txt"
chmod -R a+rX "$work"

as_user=()
if [[ $(id -u) -eq 0 ]]; then
    if command -v setpriv >/dev/null; then
        as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    elif command -v runuser >/dev/null; then
        as_user=(runuser -u nobody --)
    else
        bad "neither setpriv nor runuser: cannot run as an unprivileged user"
    fi
else
    say "not root: running the binary as $(id -un) instead of uid 65534"
fi

grace=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("shutdownGrace", 10))' "$config")
signal=${stopsignal:-SIGTERM}
signal=${signal#SIG}
[[ $signal =~ ^[0-9]+$ ]] && signal=$(kill -l "$signal")

# Starts the binary as the image would, with extra NAME=VALUE environment; sets pid and url.
start_mmapd() {
    rm -f "$work/stdout" "$work/stderr"
    (cd "$work" && exec env -i PATH=/usr/bin:/bin \
        MMAPD_CONFIG="$work/etc/mmapd/mmapd.json" MMAPD_HOST=127.0.0.1 MMAPD_PORT=0 MMAPD_ROOT="$work/data" "$@" \
        "${as_user[@]}" "$work/bin/mmapd" >"$work/stdout" 2>"$work/stderr") &
    pid=$!
    url=
    for _ in $(seq 100); do
        line=$(head -n 1 "$work/stdout" 2>/dev/null || true)
        if [[ $line == "mmapd listening on "* ]]; then url=${line#mmapd listening on }; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
}

# The HEALTHCHECK's own command, against the port really bound, with the container's environment.
healthcheck_passes() {
    local command=${healthcheck#*CMD }
    env "$@" sh -c "${command//127.0.0.1:8080/127.0.0.1:${url##*:}}" >/dev/null 2>&1
}

start_mmapd
if [[ -z $url ]]; then
    bad "the binary did not start as an unprivileged user: $(cat "$work/stderr")"
else
    running_as=$(ps -o uid= -p "$(pgrep -P "$pid" mmapd || echo "$pid")" 2>/dev/null | tr -d ' ' || true)
    say "started as uid ${running_as:-?} at $url"
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/healthz") == 200 ]] || bad "GET /healthz did not answer 200"
    healthcheck_passes || bad "the HEALTHCHECK command fails against the plain HTTP server"
    [[ $(curl -s "$url/files/hello.txt") == "hello from the volume" ]] || bad "GET /files/hello.txt did not serve the volume's file"
    # The process is the subshell's exec: signal it and time the exit.
    started=$(date +%s%N)
    kill -s "$signal" "$pid"
    status=0
    timeout $((grace + 5)) tail --pid="$pid" -f /dev/null || true
    if kill -0 "$pid" 2>/dev/null; then
        bad "still running $((grace + 5)) s after SIG$signal (shutdownGrace is $grace s)"
    else
        wait "$pid" || status=$?
        elapsed_ms=$((($(date +%s%N) - started) / 1000000))
        if [[ $status -ne 0 ]]; then
            bad "exit status $status after SIG$signal (expected 0)"
        elif ((elapsed_ms > grace * 1000)); then
            bad "took ${elapsed_ms} ms to stop after SIG$signal, more than shutdownGrace ($grace s)"
        else
            say "SIG$signal: exit 0 after ${elapsed_ms} ms (shutdownGrace $grace s)"
        fi
    fi
    pid=
fi

# --- 5. the HEALTHCHECK with HTTPS on (a self-signed certificate made here) ---------------------
if command -v openssl >/dev/null; then
    mkdir -p "$work/etc/mmapd/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
        -keyout "$work/etc/mmapd/tls/tls.key" -out "$work/etc/mmapd/tls/tls.crt" >/dev/null 2>&1
    chmod -R a+rX "$work/etc/mmapd/tls"
    tls=(MMAPD_TLS_CERT="$work/etc/mmapd/tls/tls.crt" MMAPD_TLS_KEY="$work/etc/mmapd/tls/tls.key")
    start_mmapd "${tls[@]}"
    if [[ $url != https://* ]]; then
        bad "with MMAPD_TLS_CERT/KEY the binary did not start on https: ${url:-$(cat "$work/stderr")}"
    else
        healthcheck_passes "${tls[@]}" && say "HEALTHCHECK passes with HTTPS on ($url)" \
            || bad "the HEALTHCHECK command fails with HTTPS on"
    fi
    [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" || true
    pid=
else
    say "WARNING: no openssl: the HTTPS HEALTHCHECK variant was not checked"
fi

if ((failures)); then
    say "$failures problem(s)"
    exit 1
fi
say "OK"
