#!/usr/bin/env bash
# The Unreal plugin's host checks, with no engine (unreal_plugin/HostChecks): build with clang and run
# every ctest (core unit tests and fixtures under ASan+UBSan; the plugin's classes against the engine
# stubs with a recording Live Link client, under ASan+UBSan and under ThreadSanitizer; the end-to-end
# run with the Python daemon; signature-drift compiles; .uplugin and header-tool rules), then fuzz the
# datagram parser for UNREAL_FUZZ_SECONDS (default 60) from the fixtures. Run by `make test` and
# `make unreal-check`; exits non-zero on any failure.
#
# Installs clang, its sanitizer/libFuzzer runtime, CMake (and Ninja) with apt-get when run as root and missing.
# Environment: PYTHON (default .venv/bin/python), UNREAL_CHECK_JOBS (default 2),
# UNREAL_FUZZ_SECONDS (default 60), UNREAL_CHECK_BUILD (default build/unreal-host).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
JOBS=${UNREAL_CHECK_JOBS:-2}
FUZZ_SECONDS=${UNREAL_FUZZ_SECONDS:-60}
BUILD=${UNREAL_CHECK_BUILD:-build/unreal-host}
SOURCE=unreal_plugin/HostChecks
started=$SECONDS

say() { echo "unreal-check: $*"; }
die() { echo "unreal-check: $*" >&2; exit 1; }

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: $* (run as root, or install them: apt-get install $*)"
  fi
  say "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian package -> the command it provides; a command already on PATH (installed some other way) will do.
has() { dpkg -s "$1" >/dev/null 2>&1 || command -v "$2" >/dev/null; }
missing=()
has clang clang++ || missing+=(clang)
has cmake cmake || missing+=(cmake)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
if ! has ninja-build ninja && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt_install ninja-build  # optional: faster builds; make does otherwise
fi
command -v clang++ >/dev/null || die "clang++ is not on PATH"

# libFuzzer and the sanitizer runtimes come in libclang-rt-N-dev (N = clang's major version) on Debian 12+.
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe_dir/probe.cpp"
fuzzer_links() { clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" >/dev/null 2>&1; }
if ! fuzzer_links; then
  major=$(clang++ -dumpversion | cut -d. -f1)
  dpkg -s "libclang-rt-$major-dev" >/dev/null 2>&1 || apt_install "libclang-rt-$major-dev"
  fuzzer_links || die "clang++ cannot link -fsanitize=fuzzer,address,undefined (libclang-rt-$major-dev installed?)"
fi

[ -x "$PYTHON" ] || die "no Python at $PYTHON (run make setup first, or set PYTHON)"
generator="Unix Makefiles"
command -v ninja >/dev/null && generator=Ninja
# ASan's leak checker needs ptrace, which some containers forbid; ThreadSanitizer needs a memory layout
# some kernels do not give. Each is used where a probe shows it works, and said when it is not.
leaks=0
ASAN_OPTIONS=detect_leaks=1 "$probe_dir/probe" -runs=1 >/dev/null 2>&1 && leaks=1
[ $leaks = 1 ] || say "LeakSanitizer does not work here (no ptrace?): leak checks off"
tsan=OFF
echo '#include <thread>
int main() { int x = 0; std::thread t([&] { x = 1; }); t.join(); return x - 1; }' > "$probe_dir/tsan.cpp"
clang++ -fsanitize=thread "$probe_dir/tsan.cpp" -o "$probe_dir/tsan" >/dev/null 2>&1 && "$probe_dir/tsan" >/dev/null 2>&1 && tsan=ON
[ $tsan = ON ] || say "ThreadSanitizer does not run on this kernel: the plugin_tsan tests are left out"
export ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

mkdir -p "$BUILD"
say "configuring and building in $BUILD (clang $(clang++ -dumpversion), $JOBS jobs)"
nice -n 10 cmake -S "$SOURCE" -B "$BUILD" -G "$generator" -DCMAKE_CXX_COMPILER=clang++ -DPMM_TSAN=$tsan \
  -DPMM_PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")" >"$BUILD/configure.log" 2>&1 \
  || { cat "$BUILD/configure.log"; die "CMake configure failed"; }
nice -n 10 cmake --build "$BUILD" -j "$JOBS" || die "build failed"
build_s=$((SECONDS - started))

say "running the host tests"
nice -n 10 ctest --test-dir "$BUILD" -j "$JOBS" --output-on-failure --timeout 300 || die "host tests failed"
tests_s=$((SECONDS - started - build_s))

say "fuzzing the datagram parser for ${FUZZ_SECONDS} s, seeded with $SOURCE/Fixtures"
corpus="$BUILD/fuzz-corpus"
artifacts="$BUILD/fuzz-artifacts"
mkdir -p "$corpus" "$artifacts"
if ! nice -n 10 "$BUILD/pmm_fuzz_datagram" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$SOURCE/Fixtures" \
    >"$BUILD/fuzz.log" 2>&1; then
  tail -n 60 "$BUILD/fuzz.log" >&2
  die "the fuzzer found a crash or a broken rule: reproduce with $BUILD/pmm_fuzz_datagram $artifacts/<file>"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/fuzz.log" | tail -n 1)
coverage=$(grep -o 'cov: [0-9]*' "$BUILD/fuzz.log" | tail -n 1)
say "fuzz: ${runs:-?} executions in ${FUZZ_SECONDS} s, no crash (${coverage:-cov: ?}, corpus $(ls "$corpus" | wc -l) inputs)"
say "passed in $((SECONDS - started)) s (build ${build_s} s, tests ${tests_s} s, fuzz ${FUZZ_SECONDS} s)"
