#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (release, ASan) and runs each for a bounded time.
#
#   scripts/fuzz.sh [--seconds N] [--no-build] [TARGET...]     (default: 30 s, every target)
#
# Exit status: 0 no finding; 1 a target crashed (the reproducer path is printed) or the build failed;
# 2 the machine lacks something fuzzing needs (toolchain runtime, linker, system library, writable temp dir).
# Corpora and findings live under $FUZZ_WORK (default Fuzz/.build/fuzz-work) and grow across runs;
# seeds are copied in from the repository and /work/shared (or $FUZZ_SHARED) on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(FuzzNpy FuzzSafetensors FuzzTorchCheckpoint FuzzTorchPickle FuzzSentencePiece FuzzImage FuzzDatasetFiles)
seconds=30
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *)
      if [[ " ${all_targets[*]} " != *" $1 "* ]]; then
        echo "fuzz.sh: unknown target $1 (targets: ${all_targets[*]})" >&2; exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "fuzz.sh: --seconds must be a positive integer" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

environment() { echo "fuzz.sh: ENVIRONMENT: $*" >&2; exit 2; }

# --- What the toolchain and machine must provide -------------------------------------------------------
command -v swift >/dev/null || environment "swift is not on PATH"
swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
toolchain_lib="$swift_bin/../lib"
compgen -G "$toolchain_lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null \
  || compgen -G "$toolchain_lib/swift/clang/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null \
  || environment "this Swift toolchain has no libFuzzer runtime (libclang_rt.fuzzer-*.a under $toolchain_lib)"
[ -x "$swift_bin/ld.lld" ] || command -v ld.lld >/dev/null \
  || environment "ld.lld not found next to swift or on PATH (Fuzz/Package.swift links with -use-ld=lld)"
if ! scripts/ensure-deps.sh; then
  environment "system libraries the package links against are missing (see above)"
fi

# Per checkout: two checkouts fuzzing at once must not share corpora, logs or findings.
work=${FUZZ_WORK:-$root/Fuzz/.build/fuzz-work}
mkdir -p "$work" && touch "$work/.probe" && rm -f "$work/.probe" || environment "cannot write to $work"
shared=${FUZZ_SHARED:-}
if [ -z "$shared" ]; then
  for d in "$root/../shared" /work/shared; do [ -d "$d/fixtures" ] && { shared=$d; break; }; done
fi

# --- Build ----------------------------------------------------------------------------------------------
# One combined -sanitize=fuzzer,address: swiftc keeps only the last -sanitize= option, so SwiftPM's
# `--sanitize fuzzer --sanitize address` (two options) silently drops the coverage instrumentation.
# C targets get coverage counters without libFuzzer's main (that comes with the Swift link).
build_flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
# FUZZ_JOBS limits the compile jobs (e.g. to leave a core to other work).
[ -n "${FUZZ_JOBS:-}" ] && build_flags+=(-j "$FUZZ_JOBS")
if [ "$build" = 1 ]; then
  echo "fuzz.sh: building Fuzz/ (swift build ${build_flags[*]})" >&2
  build_log="$work/build.log"
  if ! (cd Fuzz && swift build "${build_flags[@]}") >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    echo "fuzz.sh: BUILD FAILED (full log: $build_log)" >&2
    exit 1
  fi
fi
bin_dir=$(cd Fuzz && swift build "${build_flags[@]}" --show-bin-path)

# --- Seeds ----------------------------------------------------------------------------------------------
# Copies files no larger than $cap bytes into corpus dir $dest. libFuzzer truncates seeds longer than
# max_len, which keeps a big fixture's header as a seed without paying for its size on every execution.
seed_files() {
  local dest=$1 cap=$2; shift 2
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le "$cap" ] || continue
    cp -f "$f" "$dest/seed-$(printf '%s' "$f" | md5sum | cut -c1-12)-$(basename "$f")"
  done
}

# find over the shared data and the repository, quietly skipping whichever is absent.
find_in() { find "$@" 2>/dev/null || true; }
shared_dirs=()
[ -n "$shared" ] && shared_dirs=("$shared/fixtures" "$shared/datasets-samples")

# Sets max_len and fills corpus dir $1 for target $2.
seed_cap=$((2 << 20))
seed_target() {
  local dest=$1 target=$2
  local -a files
  case "$target" in
    FuzzNpy)
      max_len=65536
      mapfile -t files < <(find_in Tests/TensorTests/Resources "${shared_dirs[@]}" -name '*.npy' -size -64k)
      seed_files "$dest" "$max_len" "${files[@]}" ;;
    FuzzSafetensors)
      max_len=65536
      mapfile -t files < <(find_in Fuzz/Seeds/FuzzSafetensors demo "${shared_dirs[@]}" -name '*.safetensors')
      seed_files "$dest" "$seed_cap" "${files[@]}" ;;
    FuzzTorchCheckpoint)
      max_len=$((1 << 19))
      mapfile -t files < <(find_in Tests/CheckpointTests/Resources/TorchBin -name '*.bin')
      seed_files "$dest" "$max_len" "${files[@]}" ;;
    FuzzTorchPickle)
      max_len=65536
      mapfile -t files < <(find_in Fuzz/Seeds/FuzzTorchPickle -type f)
      seed_files "$dest" "$max_len" "${files[@]}" ;;
    FuzzSentencePiece)
      max_len=65536
      mapfile -t files < <(find_in Fuzz/Seeds/FuzzSentencePiece demo "${shared_dirs[@]}" -name '*.model')
      seed_files "$dest" "$seed_cap" "${files[@]}" ;;
    FuzzImage)
      max_len=$((1 << 17))
      mapfile -t files < <(find_in demo "${shared_dirs[@]}" \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) -size -128k)
      seed_files "$dest" "$max_len" "${files[@]}" ;;
    FuzzDatasetFiles)
      # The first byte selects the reader (see FuzzDatasetFiles.swift); each sample goes to the readers meant
      # for it. Seeds are named by content, so the demo/ copies of the shared samples collapse into one.
      max_len=$((1 << 17))
      mapfile -t files < <(find_in datasets.json demo "${shared_dirs[@]}" \( -name '*.json' -o -name '*.jsonl' -o -name '*.txt' \) -size -128k)
      local f sel s mme=0
      for f in "${files[@]}"; do
        case "$f" in
          */answers/*.jsonl) sel="0 9" ;;
          */llava_pope_test.jsonl|*/llava_mme.jsonl) sel="1 2" ;;
          */llava_*.jsonl) sel="1" ;;
          */coco_pope_*.json) sel="3" ;;
          */testdev_balanced_questions.json) sel="4" ;;
          */problems.json) sel="5" ;;
          */pid_splits.json) sel="6" ;;
          datasets.json|*/datasets.json) sel="7" ;;
          */MME_Benchmark_release_version/*.txt) sel="8"; mme=$((mme + 1)); [ "$mme" -le 12 ] || continue ;;
          */normalization/*.jsonl|*/expected/*.txt) sel="9" ;;
          *) continue ;;
        esac
        local h; h=$(md5sum <"$f" | cut -c1-12)
        for s in $sel; do
          { printf "\\x$(printf %02x "$s")"; cat "$f"; } >"$dest/seed-$h-$s"
        done
      done ;;
  esac
}

# --- Run ------------------------------------------------------------------------------------------------
# Swift keeps process-lifetime caches that LeakSanitizer reports as leaks, so leak checks are off; every
# other ASan report aborts the run. Symbolizing needs llvm-symbolizer, which the toolchain ships.
export ASAN_OPTIONS="detect_leaks=0:symbolize=1:${ASAN_OPTIONS:-}"
[ -x "$swift_bin/llvm-symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$swift_bin/llvm-symbolizer"

status=0
summary=()
for target in "${targets[@]}"; do
  exe="$bin_dir/$target"
  [ -x "$exe" ] || { echo "fuzz.sh: $exe is missing (build with: cd Fuzz && swift build ${build_flags[*]})" >&2; exit 1; }
  corpus="$work/corpus/$target"
  artifacts="$work/findings/$target"
  mkdir -p "$corpus" "$artifacts"
  seed_target "$corpus" "$target"
  log="$work/$target.log"
  echo "fuzz.sh: $target for ${seconds}s (corpus $corpus, $(find "$corpus" -type f | wc -l) files, max_len $max_len)" >&2
  before=$(find "$artifacts" -type f | sort)
  start=$(date +%s)
  set +e
  "$exe" "$corpus" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -max_len="$max_len" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 -detect_leaks=0 >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  new_files=$(comm -13 <(printf '%s\n' "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')
  # slow-unit-* files only note a unit above libFuzzer's 10 s slow-unit report threshold; they are not failures.
  found=$(printf '%s\n' "$new_files" | grep -E '/(crash|timeout|oom|leak)-' || true)
  slow=$(printf '%s\n' "$new_files" | grep -E '/slow-unit-' || true)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    status=1
    tail -n 80 "$log" >&2
    echo "fuzz.sh: $target FOUND A CRASH (exit $rc) after ${elapsed}s; log: $log" >&2
    for f in $found; do
      echo "fuzz.sh:   reproducer: $f" >&2
      echo "fuzz.sh:   replay:     ASAN_OPTIONS=detect_leaks=0 $exe $f" >&2
    done
    summary+=("$target: CRASH after ${elapsed}s, ${execs:-?} execs")
  elif grep -q "Is the code instrumented for coverage" "$log"; then
    # Fuzzing blind is a broken build, not a pass (e.g. a -sanitize= option overridden by a later one).
    status=1
    echo "fuzz.sh: $target BUILD PROBLEM: libFuzzer saw no coverage; the code is not instrumented (log: $log)" >&2
    summary+=("$target: NOT INSTRUMENTED, ${elapsed}s, ${execs:-?} execs")
  else
    for f in $slow; do echo "fuzz.sh: $target note: slow (not failing) input kept at $f" >&2; done
    summary+=("$target: ok, ${elapsed}s, ${execs:-?} execs, corpus $(find "$corpus" -type f | wc -l) files")
  fi
done

printf 'fuzz.sh: %s\n' "${summary[@]}" >&2
exit $status
