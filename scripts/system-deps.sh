#!/usr/bin/env bash
# Install the Debian packages camsweep needs, only when missing (CI runs as root).
#   build: what `pip install` needs to compile (PyICU, pulled in by normality for screening)
#   run:   shared libraries camsweep loads at run time (pango for WeasyPrint's PDF reports)
#   test:  servers and tools the tests and benchmarks run (PostgreSQL, nmap, chromium)
set -euo pipefail

need=()
for what in "$@"; do
  case "$what" in
    build)
      command -v pkg-config >/dev/null || need+=(pkg-config)
      command -v g++ >/dev/null || need+=(g++)
      [ -e /usr/include/unicode/uversion.h ] || need+=(libicu-dev)
      ;;
    run)
      ldconfig -p | grep -q 'libpango-1.0.so' || need+=(libpango-1.0-0)
      ldconfig -p | grep -q 'libpangoft2-1.0.so' || need+=(libpangoft2-1.0-0)
      ldconfig -p | grep -q 'libharfbuzz-subset.so' || need+=(libharfbuzz-subset0)
      ;;
    test)
      command -v chromium >/dev/null || need+=(chromium)  # Playwright browser tests of the web UI
      compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
      command -v nmap >/dev/null || need+=(nmap)  # benchmarks/scan_bench.py compares with nmap -sV
      command -v ip >/dev/null || need+=(iproute2)  # network namespaces for discovery tests
      ;;
    *) echo "usage: $0 build|run|test ..." >&2; exit 2 ;;
  esac
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run as root or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
