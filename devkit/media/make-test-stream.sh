#!/usr/bin/env bash
# Re-creates the bundled test stream in ./test-stream: 40 s of 640x360 H.264/AAC in MPEG-TS,
# 2 s segments that each start with a keyframe, ~600 kbit/s. The noise filter keeps the
# encoder at its target rate so segments weigh what real 360p segments weigh.
set -euo pipefail
cd "$(dirname "$0")"
out=test-stream
rm -rf "$out" && mkdir -p "$out"
ffmpeg -hide_banner -loglevel error \
  -f lavfi -i "testsrc2=size=640x360:rate=30,noise=alls=12:allf=t" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:beep_factor=4" \
  -t 40 -map 0:v -map 1:a \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
  -b:v 560k -maxrate 600k -bufsize 1200k -g 60 -keyint_min 60 -sc_threshold 0 \
  -c:a aac -b:a 64k -ac 2 \
  -f hls -hls_time 2 -hls_list_size 0 -hls_playlist_type vod \
  -hls_segment_filename "$out/seg-%03d.ts" "$out/index.m3u8"
