#!/bin/bash
# speech-bytes.sh: how much disk a recorded conversation takes per minute,
# as the store keeps it: 8 kHz stereo G.711 µ-law (near left, far right),
# cut into segments (16 bytes per ms, as <store segment-ms> sets), each compressed with zstd level 1
# when that makes it smaller, plus 64 bytes per segment (the record's
# length, chain link, nonce and tag; sql-free-store/FORMAT.md).
#
# media-bench.sh sends pure tones, which compress to almost nothing, so its
# bytes per call-minute say little about speech. This script makes a
# conversation instead: two synthetic voices (espeak-ng, English and
# German) taking turns, each silent while the other speaks, over a noise
# floor of about -50 dBFS on both channels, and repeats the exchange to
# the length asked for.
#
#   usage: contrib/bench/speech-bytes.sh [MINUTES [SEGMENT-MS]]
#          (defaults 2 and 500, the daemon's default segment length)
#
# Needs espeak-ng, sox and zstd (Debian packages of the same names).
set -eu

minutes=${1:-2}
segment_ms=${2:-500}
for tool in espeak-ng sox zstd; do
    command -v "$tool" >/dev/null || { echo "speech-bytes.sh: $tool is missing" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

espeak-ng -v en -s 150 -w a.wav "Good morning, this is the customer service line. How can I help \
you today? I would like to ask about my last invoice, it seems the amount is higher than usual. \
Let me check that for you, could you give me your customer number please? Yes of course, it is \
four five six seven eight nine. Thank you, one moment please."
espeak-ng -v de -s 140 -w b.wav "Guten Tag, ich rufe wegen meiner Rechnung an. Die Summe ist viel \
zu hoch, und ich verstehe nicht warum. Können Sie mir bitte helfen? Ja, einen Moment bitte, ich \
schaue nach."
sox a.wav -r 8000 -c 1 a8.wav
sox b.wav -r 8000 -c 1 b8.wav
la=$(soxi -D a8.wav)
lb=$(soxi -D b8.wav)
# One exchange: the near end speaks while the far end is silent, then the other way round.
sox a8.wav near1.wav pad 0 "$lb"
sox b8.wav far1.wav pad "$la" 0
turn=$(soxi -D near1.wav)
reps=$(awk -v m="$minutes" -v t="$turn" 'BEGIN { r = int(m * 60 / t) + 1; print r }')
near=() far=()
for _ in $(seq "$reps"); do
    near+=(near1.wav)
    far+=(far1.wav)
done
sox "${near[@]}" near.wav trim 0 "$((minutes * 60))"
sox "${far[@]}" far.wav trim 0 "$((minutes * 60))"
sox -n -r 8000 -c 1 noise.wav synth "$((minutes * 60))" whitenoise vol 0.003
sox -m near.wav noise.wav nearn.wav
sox -m far.wav noise.wav farn.wav
sox -M nearn.wav farn.wav -e mu-law -t raw conv.ul

raw=$(stat -c %s conv.ul)
split -b "$((16 * segment_ms))" -d -a 5 conv.ul seg.
stored=0
segments=0
for f in seg.*; do
    size=$(stat -c %s "$f")
    z=$(zstd -1 -q -c "$f" | wc -c)
    [ "$z" -lt "$size" ] && size=$z
    stored=$((stored + 1 + size + 64))
    segments=$((segments + 1))
done
awk -v raw="$raw" -v stored="$stored" -v n="$segments" -v m="$minutes" -v ms="$segment_ms" 'BEGIN {
    printf "conversation: %d min, %d segments of %d ms, %d bytes of G.711 stereo\n", m, n, ms, raw
    printf "stored (zstd level 1 per segment, + encoding byte and 64 bytes per segment): %d bytes\n", stored
    printf "bytes per call-minute: %.0f stored against %.0f source (%.1f %%)\n", stored / m, raw / m, 100 * stored / raw
}'
