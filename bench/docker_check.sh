#!/usr/bin/env bash
# Build and prove the Docker image: ../shared/tools/docker-smoke.sh builds it FROM a local
# stand-in python:3.11-slim and checks /healthz; then this script runs the image it built
# (smoke/app:ci) itself, because the smoke script removes its container on exit, and checks:
#   - PORT is honoured (the container listens on PORT=9000 here);
#   - it runs as a non-root user and carries no torch / CUDA packages;
#   - seed 001 posted to /v1/classify comes back right: one entry per sentence, in order, with
#     offsets into the text, the three promo headlines flagged as boilerplate, and a framing
#     label on every other sentence (agreement with the hand labels is printed);
#   - Docker's HEALTHCHECK reports the container healthy;
#   - `docker stop` (SIGTERM) lets a request already in flight finish with a full answer and
#     the server exits cleanly (status 0);
# and prints the image size. Exit status: 0 passed, 1 a check failed, 3 nothing could be
# checked here (no Docker daemon can run, or the smoke tool is missing; the last line starting
# "docker_check:" says which, and .ci/run reports the stage as NOT RUN).
#
# Usage: bash bench/docker_check.sh   (as root; installs docker.io and starts dockerd if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
# The smoke tool lies beside the repository (../shared); a clone made elsewhere finds it
# beside the repository it was cloned from. DOCKER_SMOKE overrides both.
smoke_tool() {
  local origin
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  for candidate in ../shared/tools/docker-smoke.sh "${origin%/}/../shared/tools/docker-smoke.sh"; do
    [ -f "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 0
}
SMOKE=${DOCKER_SMOKE:-$(smoke_tool)}
DOCKER=/usr/bin/docker
IMG=smoke/app:ci
NAME=presslens-check-$$
HPORT=18001
CPORT=9000
# Room for the long request of the SIGTERM check (MAX_COPIES copies of seed 001 at most).
MAX_CHARS=200000
# A copy of seed 001 with its lines numbered splits into 34 sentences: 28 copies are 952,
# under the service's 1,000-sentence article limit (more were a 413 on a machine fast
# enough to want them).
MAX_COPIES=28
BASE=http://127.0.0.1:$HPORT
SEED=seeds/001_f81694604ca57c9e.txt
LABELS=tests/fixtures/seed_framing.json
NOT_RUN=3
t0=$SECONDS
step() { echo "== [docker_check $((SECONDS - t0))s] $*"; }
fail() { echo "!! docker_check FAILED: $*" >&2; exit 1; }
WORK=$(mktemp -d)

DPID=
cleanup() {
  $DOCKER rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  if [ -n "$DPID" ]; then
    kill -TERM "$DPID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.2; done
  fi
}
trap cleanup EXIT

if [ -z "$SMOKE" ] || [ ! -f "$SMOKE" ]; then
  echo "docker_check: ../shared/tools/docker-smoke.sh not found (set DOCKER_SMOKE)" >&2
  exit $NOT_RUN
fi

# A daemon that outlives the smoke script (which stops any dockerd it started itself).
if ! command -v dockerd >/dev/null || [ ! -x $DOCKER ]; then
  step "install docker.io + mmdebstrap"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends docker.io mmdebstrap >/dev/null; }; then
    echo "docker_check: docker.io could not be installed on this machine" >&2; exit $NOT_RUN
  fi
fi
if ! $DOCKER info >/dev/null 2>&1; then
  step "start dockerd"
  dockerd >/tmp/dockerd-check.log 2>&1 & DPID=$!
  for _ in $(seq 60); do $DOCKER info >/dev/null 2>&1 && break; sleep 0.5; done
  if ! $DOCKER info >/dev/null 2>&1; then
    echo "dockerd's log (/tmp/dockerd-check.log) ends:" >&2
    tail -15 /tmp/dockerd-check.log >&2
    echo "docker_check: dockerd does not start on this machine (log above)" >&2
    exit $NOT_RUN
  fi
fi

step "docker-smoke: build the image from the stand-in python:3.11-slim, check /healthz"
bash "$SMOKE" . 8000 /healthz || fail "docker-smoke.sh failed (output above)"

size=$($DOCKER image inspect -f '{{.Size}}' $IMG)
step "image $IMG: $((size / 1000000)) MB ($size bytes, uncompressed)"
$DOCKER history --format '{{.Size}}\t{{.CreatedBy}}' $IMG | cut -c1-110 | head -12

step "run the image with PORT=$CPORT"
$DOCKER run -d --name "$NAME" -e PORT=$CPORT -e PRESSLENS_MAX_CHARS=$MAX_CHARS -p 127.0.0.1:$HPORT:$CPORT $IMG >/dev/null
for _ in $(seq 120); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "$BASE/healthz" >/dev/null || { $DOCKER logs "$NAME" | tail -30; fail "no /healthz on PORT=$CPORT"; }

step "non-root, no torch or CUDA libraries"
uid=$($DOCKER exec "$NAME" id -u)
[ "$uid" != 0 ] || fail "the server runs as root"
$DOCKER exec "$NAME" python3 -c "
import importlib.metadata as m
names = sorted({d.metadata['Name'].lower() for d in m.distributions()})
heavy = [n for n in names if n in ('torch', 'sentence-transformers', 'transformers')
         or n.startswith(('nvidia-', 'cuda-', 'triton'))]
assert not heavy, f'training-only packages in the serving image: {heavy}'
print(f'uid $uid; {len(names)} distributions, none of torch/transformers/nvidia-*/cuda-*')
" || fail "the image carries training-only packages"

step "POST seed 001 to /v1/classify"
python3 -c "import json, sys; print(json.dumps({'text': open(sys.argv[1], encoding='utf-8').read()}))" \
  "$SEED" >"$WORK/seed.json"
code=$(curl -sS -o "$WORK/answer.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$WORK/seed.json" "$BASE/v1/classify")
[ "$code" = 200 ] || { cat "$WORK/answer.json"; fail "/v1/classify answered HTTP $code"; }
python3 - "$SEED" "$LABELS" "$WORK/answer.json" <<'EOF' || fail "wrong answer for seed 001"
"""Check the container's answer against the seed's text and its hand labels."""
import json
import sys

text = open(sys.argv[1], encoding="utf-8").read()
hand = json.load(open(sys.argv[2], encoding="utf-8"))["001_f81694604ca57c9e.txt"]
answer = json.load(open(sys.argv[3], encoding="utf-8"))
sentences = answer["sentences"]
problems = []
content = [s for s in sentences if not s["boilerplate"]]
boilerplate = [s for s in sentences if s["boilerplate"]]
# The article's promo headlines: the all-capitals lines linking to other stories.
promos = [line for line in text.splitlines() if line.strip() and line.upper() == line]
if [s["index"] for s in sentences] != list(range(len(sentences))):
    problems.append("sentence indexes are not 0..n-1")
for s in sentences:
    if text[s["start"]:s["end"]] != s["text"]:
        problems.append(f"sentence {s['index']}: text[start:end] != text")
if len(sentences) != len(hand) + len(promos):
    problems.append(f"{len(sentences)} sentences, expected {len(hand)} + {len(promos)} promos")
if [s["text"].strip() for s in boilerplate] != [p.strip() for p in promos]:
    problems.append(f"boilerplate {[s['text'][:30] for s in boilerplate]}, expected the promos")
for s, (opening, _) in zip(content, hand):
    if not s["text"].startswith(opening):
        problems.append(f"sentence {s['index']} starts {s['text'][:30]!r}, expected {opening!r}")
framings = {"neutral_reporting", "official_claim", "advocacy"}
for s in content:
    if not s["framing"] or s["framing"]["label"] not in framings:
        problems.append(f"sentence {s['index']}: framing {s['framing']!r}")
    if not s["stance"]:
        problems.append(f"sentence {s['index']}: no stance")
for s in boilerplate:
    if s["framing"] is not None or s["stance"]:
        problems.append(f"boilerplate sentence {s['index']} is labelled")
if problems:
    print("\n".join(problems))
    sys.exit(1)
agree = sum(s["framing"]["label"] == label for s, (_, label) in zip(content, hand))
print(f"{len(sentences)} sentences ({len(boilerplate)} boilerplate), a framing label on each of "
      f"the {len(content)} others; {agree}/{len(hand)} agree with the hand labels; "
      f"model {answer['model']['id']} {answer['model']['version']}")
EOF

step "Docker HEALTHCHECK reports healthy"
health=
for _ in $(seq 90); do
  health=$($DOCKER inspect -f '{{.State.Health.Status}}' "$NAME")
  [ "$health" = healthy ] && break
  [ "$health" = unhealthy ] && break
  sleep 1
done
[ "$health" = healthy ] || fail "health status '$health' after 90 s"
echo "healthy"

step "SIGTERM with a request in flight"
# An article of N copies of seed 001, every line numbered so no sentence repeats.
article() {
  python3 -c "
import json, sys
lines = open(sys.argv[1], encoding='utf-8').read().splitlines()
copies = [[f'{line} ({i})' for line in lines if line.strip()] for i in range(int(sys.argv[2]))]
print(json.dumps({'text': '\\n'.join(line for copy in copies for line in copy)}))" "$SEED" "$1"
}
timed_post() {  # seconds one classify request of $1 takes
  local start code; start=$(date +%s.%N)
  code=$(curl -sS -o "$WORK/timed_answer.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @"$1" "$BASE/v1/classify")
  [ "$code" = 200 ] || { cat "$WORK/timed_answer.json" >&2
    fail "the long request got HTTP $code before any SIGTERM"; }
  python3 -c "import time; print(round(time.time() - $start, 2))"
}
article 5 >"$WORK/probe.json"
probe=$(timed_post "$WORK/probe.json")
# Aim at ~2.5 s of work: long enough to stop mid-request, well inside the 8 s shutdown grace.
copies=$(python3 -c "print(max(5, min($MAX_COPIES, round(5 * 2.5 / max($probe, 0.05)))))")
article "$copies" >"$WORK/long.json"
took=$(timed_post "$WORK/long.json")
echo "one request of $copies x seed 001 takes ${took}s when nothing else runs"
wait_s=$(python3 -c "print(round(max(0.2, $took / 3), 2))")
curl -sS -o "$WORK/long_answer.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$WORK/long.json" "$BASE/v1/classify" >"$WORK/long_code" 2>"$WORK/long_err" &
cpid=$!
sleep "$wait_s"
kill -0 $cpid 2>/dev/null || fail "the request finished before SIGTERM could be sent: no proof"
$DOCKER stop -t 30 "$NAME" >/dev/null &
spid=$!
wait $cpid || true
wait $spid
[ "$(cat "$WORK/long_code")" = 200 ] || { cat "$WORK/long_err"; $DOCKER logs "$NAME" | tail -20
  fail "the in-flight request got HTTP '$(cat "$WORK/long_code")' after SIGTERM"; }
python3 -c "
import json, sys
answer = json.load(open(sys.argv[1], encoding='utf-8'))
print(f'in-flight request finished after SIGTERM: HTTP 200, {len(answer[\"sentences\"])} sentences')
" "$WORK/long_answer.json"
exit_code=$($DOCKER inspect -f '{{.State.ExitCode}}' "$NAME")
$DOCKER logs "$NAME" 2>&1 | tail -5
[ "$exit_code" = 0 ] || fail "the container exited with status $exit_code after SIGTERM"

step "DOCKER CHECK OK (image $((size / 1000000)) MB)"
