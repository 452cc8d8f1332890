#!/usr/bin/env bash
# Train lesson 07's variants and lesson 08's conditional model over several seeds, one run at
# a time, for scripts/compare_variants.py. A finished run is kept; a stopped one resumes.
#   scripts/run_variants.sh RUNS [SETTING] [SEEDS]      e.g. scripts/run_variants.sh runs/lesson07 class "0 1 2"
# Background use on a shared machine: OMP_NUM_THREADS=1 nohup nice scripts/run_variants.sh ... &
set -u
runs=${1:?usage: scripts/run_variants.sh RUNS [SETTING] [SEEDS]}
setting=${2:-class}
seeds=${3:-0 1 2}
python=${PYTHON:-python}
mkdir -p "$runs"
for seed in $seeds; do
  for variant in 07 07-hinge 07-sn 07-ttur 07-ema 07-combined 07-hinge-ema 08 07-wgan-gp; do
    out="$runs/${variant}_${setting}_seed${seed}"
    # a finished run is kept; an interrupted one (its summary says so) resumes from its checkpoint
    grep -qs '"interrupted": false' "$out/summary.json" && continue
    echo "$(date +%H:%M) $variant seed $seed"
    "$python" -m gan_tutorial train "$variant" --setting "$setting" --seed "$seed" --out "$out" > "$out.log" 2>&1 \
      || echo "   failed: see $out.log"
  done
done
