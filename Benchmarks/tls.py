"""The TLS section of `make bench` (BENCH_SECTIONS=tls): mmapd serving HTTPS through
libmicrohttpd's GnuTLS against nginx with the same certificate and an equivalent cipher
configuration, GET of a whole 4 KiB file and of 1 MiB ranges, rounds in ABBA order, medians and
the mmapd/nginx ratio.

Both servers get one self-signed P-256 certificate made here with the openssl CLI, TLS 1.2 and
1.3 only, AEAD ciphers with ECDHE, the server's preference, AES-128-GCM first (mmapd's default
--tls-priorities; nginx's ssl_ciphers and TLS 1.3 Ciphersuites set to the same order), and keep-alive
connections, so a run measures record encryption, not handshakes. Neither can sendfile into TLS
(nginx without kernel TLS reads and encrypts, as libmicrohttpd does). The negotiated protocol and
cipher of each server are printed with the figures. With BENCH_CEILING=1 (the default) Benchmarks/ceiling.c
runs as a third server over HTTPS with the same certificate: what libmicrohttpd's own TLS path reaches
here, so that mmapd/ceiling and ceiling/nginx say how much of a gap is mmapd's and how much the library's.

Called from bench.py with the bench module itself, whose Wrk runner, workloads and summary
helpers it reuses.
"""

import grp
import os
import pwd
import socket
import subprocess
import time

NGINX_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
                 "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305")
NGINX_SUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
KEYS = ("get-4k", "range-1m")


def make_certificate(directory):
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(args, directory, cert, key):
    port = free_port()
    user = (f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
            if os.geteuid() == 0 else "")
    config = os.path.join(directory, "nginx.conf")
    with open(config, "w") as f:
        f.write(f"""{user}
daemon off;
master_process on;
worker_processes {args.workers};
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid {max(1, int(os.environ.get('BENCH_STAT_TRUST_SECONDS') or 60))}s;
    keepalive_timeout 65s;
    keepalive_requests 100000;
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {NGINX_CIPHERS};
        ssl_conf_command Ciphersuites {NGINX_SUITES};
        ssl_prefer_server_ciphers on;
        location /files/ {{ alias {args.data}/; }}
    }}
}}
""")
    process = subprocess.Popen([args.nginx_bin, "-p", directory, "-c", config, "-e", os.path.join(directory, "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return process, f"https://127.0.0.1:{port}"


def start_mmapd(args, directory, cert, key):
    trust_ms = int(os.environ.get("BENCH_STAT_TRUST_SECONDS") or 60) * 1000
    out = open(os.path.join(directory, "mmapd.out"), "w+")
    process = subprocess.Popen([args.mmapd_bin, "--root", args.data, "--port", "0", "--host", "127.0.0.1",
                                "--log-level", "warning", "--threads", str(args.workers),
                                "--revalidate-milliseconds", str(trust_ms), "--tls-cert", cert, "--tls-key", key],
                               stdout=out, stderr=subprocess.PIPE)
    for _ in range(100):
        out.seek(0)
        line = out.readline()
        if line.startswith("mmapd listening on https://"):
            return process, line.split()[-1].rstrip("/")
        if process.poll() is not None:
            break
        time.sleep(0.1)
    return process, None


def start_ceiling(args, cert, key):
    """Benchmarks/ceiling.c (compiled by Benchmarks/run when BENCH_CEILING=1) serving HTTPS with
    the same certificate and mmapd's default priorities: libmicrohttpd's own TLS path, with no
    per-request work of mmapd's. None when the ceiling is off."""
    binary = os.path.join(args.work, "ceiling")
    if not args.ceiling or not os.path.exists(binary):
        return None, None
    port = free_port()
    env = dict(os.environ, CEILING_TLS_CERT=cert, CEILING_TLS_KEY=key)
    memory = os.environ.get("BENCH_CEILING_MEMORY") or "16384"
    process = subprocess.Popen([binary, args.data, str(port), str(args.workers), memory, "small.bin", "big.txt"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return process, f"https://127.0.0.1:{port}"


def wait_ready(url, cert, process):
    for _ in range(100):
        done = subprocess.run(["curl", "-sf", "--cacert", cert, "-o", "/dev/null", url + "/files/small.bin"],
                              capture_output=True, timeout=10)
        if done.returncode == 0:
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def negotiated(url):
    host_port = url.split("//", 1)[1]
    done = subprocess.run(["openssl", "s_client", "-connect", host_port], input=b"", capture_output=True, timeout=30)
    text = done.stdout.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("New, "):
            return line[len("New, "):].strip()
    return "?"


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tls_section(bench, args, settings, report, wrk, results):
    directory = os.path.join(args.work, "tls")
    os.makedirs(directory, exist_ok=True)
    cert, key = make_certificate(directory)
    nginx, nginx_url = start_nginx(args, directory, cert, key)
    mmapd, mmapd_url = start_mmapd(args, directory, cert, key)
    ceiling, ceiling_url = start_ceiling(args, cert, key)
    try:
        if not mmapd_url or not wait_ready(mmapd_url, cert, mmapd):
            report(f"== TLS: mmapd did not start with TLS: {mmapd.stderr.read(300) if mmapd.poll() is not None else 'no answer'}")
            return
        if not wait_ready(nginx_url, cert, nginx):
            report(f"== TLS: nginx did not start with TLS: {open(os.path.join(directory, 'error.log')).read()[-300:]}")
            return
        servers = [("nginx", nginx_url, nginx), ("mmapd", mmapd_url, mmapd)]
        if ceiling is not None and wait_ready(ceiling_url, cert, ceiling):
            servers.append(("ceiling", ceiling_url, ceiling))
        loads = [load for load in bench.workloads(args.seed) if load.key in KEYS]
        report(f"== TLS: HTTPS, wrk -t{settings.threads} -c{settings.connections} -d{settings.duration:g}s, "
               f"{settings.rounds} round(s) alternating " + "/".join(name for name, _, _ in servers) + ", medians ==")
        ciphers = {name: negotiated(url) for name, url, _ in servers}
        for name, cipher in ciphers.items():
            report(f"{name}: {cipher}")
        samples = {load.key: {name: [] for name, _, _ in servers} for load in loads}
        failures = []
        for round_number in range(settings.rounds):
            for load in loads:
                for name, url, process in (servers if round_number % 2 == 0 else servers[::-1]):
                    report.note(f"tls round {round_number + 1} {load.key} {name}")
                    result = wrk(url + load.path, script=load.script, args=load.args, headers=list(load.headers),
                                 connections=load.connections)
                    if "failed" in result:
                        failures.append(f"{load.key} {name} round {round_number + 1}: {result['failed']}")
                    else:
                        samples[load.key][name].append(result)
                    if process.poll() is not None:
                        failures.append(f"{name} died during {load.key}")
                        break
        summary = {}
        header = f"{'workload':<15} {'server':<11} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'MB/s':>9} {'errors':>7}"
        report(header)
        report("-" * len(header))
        for load in loads:
            row = {name: bench.server_row(samples[load.key][name]) for name, _, _ in servers}
            row["ratio"] = bench.ratios(row["mmapd"], row["nginx"])
            if "ceiling" in row:
                row["ceiling_ratio"] = bench.ratios(row["ceiling"], row["nginx"])
                row["mmapd_over_ceiling"] = bench.ratios(row["mmapd"], row["ceiling"])
            summary[load.key] = row
            for index, (name, _, _) in enumerate(servers):
                r = row[name]
                label = f"tls-{load.key}" if index == 0 else ""
                if r is None:
                    report(f"{label:<15} {name:<11} (no completed round)")
                    continue
                report(f"{label:<15} {name:<11} {bench.fmt_num(r['rps']):>10} {bench.fmt_ms(r['p50_us']):>8} "
                       f"{bench.fmt_ms(r['p99_us']):>8} {bench.fmt_num(r['mbps'], 1):>9} {r['errors']:>7}")
            for label, key in (("mmapd/nginx", "ratio"), ("ceiling/nginx", "ceiling_ratio"), ("mmapd/ceil.", "mmapd_over_ceiling")):
                if key not in row:
                    continue
                q = row[key]
                report(f"{'':<15} {label:<11} {bench.fmt_ratio(q['rps']):>10} {bench.fmt_ratio(q['p50']):>8} "
                       f"{bench.fmt_ratio(q['p99']):>8} {bench.fmt_ratio(q['mbps']):>9}")
            report(f"{'':<15} ({load.title}, over HTTPS)")
        for line in failures:
            report(f"!! {line}")
        report("target (issue 21), mmapd/nginx req/s over TLS >= 1.0x: " + ", ".join(
            f"{key} {bench.fmt_ratio(summary[key]['ratio']['rps'])}" for key in summary))
        if any("ceiling" in row for row in summary.values()):
            report("ceiling: Benchmarks/ceiling.c over HTTPS, libmicrohttpd's own TLS path answering from mappings made "
                   "at start (whole file and ranges as buffer responses), mmapd's priorities and threads")
        report("")
        results["tls"] = {"workloads": summary, "failures": failures,
                          "negotiated": ciphers}
    finally:
        stop(mmapd)
        stop(nginx)
        if ceiling is not None:
            stop(ceiling)
