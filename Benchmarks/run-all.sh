#!/usr/bin/env bash
# Runs the whole performance suite and its peers on this machine, back to back, and writes the
# ratio table (ours vs PyTorch CPU, ours vs the OpenBLAS sgemm roofline) to RUN_DIR/table.md.
#
#   Benchmarks/run-all.sh [--full] [--threads N] [RUN_DIR]
#
# --full adds the full generate on a real-size LLaVA-1.5-7B (13 GB of random fp16 weights written
# once under $VISPRUNER_BENCH_MODELS, default /tmp/vispruner-bench-models; ~15 minutes on 2 cores).
# Needs python3 with torch for the peer (pip install torch); without it the PyTorch columns are empty.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
full=0
threads="$(nproc)"
run=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --full) full=1 ;;
        --threads) threads="$2"; shift ;;
        -h|--help) sed -n 2,11p "$0"; exit 0 ;;
        *) run="$1" ;;
    esac
    shift
done
run="${run:-$here/.runs/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$run/swift-f32" "$run/swift-bf16"
export VISPRUNER_KERNEL_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

{
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores" \
         "($threads threads used), $(free -g | awk '/Mem:/ {print $2}') GiB;" \
         "AVX2 $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)," \
         "AVX-512F $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)," \
         "AVX512_BF16 $(grep -qw avx512_bf16 /proc/cpuinfo && echo yes || echo no);" \
         "OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?');" \
         "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)."
} > "$run/machine.txt"

cd "$here"
targets=(--target KernelBenchmarks --target EngineBenchmarks --target PruningBenchmarks)
[[ $full == 1 ]] && targets+=(--target GenerateBenchmarks)
echo "== Swift, float32" >&2
VISPRUNER_PRECISION=float32 swift package --allow-writing-to-package-directory benchmark "${targets[@]}" \
    --format jsonSmallerIsBetter --path "$run/swift-f32" --no-progress >&2
echo "== Swift, bfloat16 (reduced precision)" >&2
VISPRUNER_PRECISION=bfloat16 swift package --allow-writing-to-package-directory benchmark --target EngineBenchmarks \
    --filter "llama.*" --filter "projector.*" --format jsonSmallerIsBetter --path "$run/swift-bf16" --no-progress >&2
echo "== PyTorch peer" >&2
if python3 -c "import torch" 2>/dev/null; then
    python3 peers/torch_peer.py --threads "$threads" > "$run/torch.json"
    # Selection runs on one thread on both sides (PRUNING_THREADS), as in PruningBenchmarks.
    python3 peers/pruning_peer.py --repeats 15 > "$run/pruning_torch.json"
else
    echo "torch is not installed: PyTorch columns stay empty" >&2
    echo '{"torch": "absent", "threads": 0, "results": {}}' > "$run/torch.json"
fi
python3 Tools/ratio_table.py "$run" | tee "$run/table.md"
echo "table: $run/table.md" >&2
