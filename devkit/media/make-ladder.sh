#!/usr/bin/env bash
# Re-creates the bundled ABR ladder in ./ladder: 20 s of H.264/AAC in MPEG-TS, three renditions
# of 0.8 / 1.6 / 3.2 Mbit/s (360p / 540p / 720p, audio in each), 2 s segments that start with a
# keyframe at the same instants in every rendition, and a multivariant playlist. The origin
# loops it as a live stream (20 s rather than the single stream's 40 s keeps the repository
# small: 14 MB). The noise filter keeps the encoder at its target rate.
set -euo pipefail
cd "$(dirname "$0")"
out=ladder
rm -rf "$out" && mkdir -p "$out"
ffmpeg -hide_banner -loglevel error \
  -f lavfi -i "testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:beep_factor=4" \
  -t 20 \
  -filter_complex "[0:v]split=3[a][b][c];[a]scale=640:360[v0];[b]scale=960:540[v1];[c]copy[v2]" \
  -map "[v0]" -map 1:a -map "[v1]" -map 1:a -map "[v2]" -map 1:a \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 \
  -b:v:0 736k -maxrate:v:0 800k -bufsize:v:0 1600k \
  -b:v:1 1536k -maxrate:v:1 1600k -bufsize:v:1 3200k \
  -b:v:2 3136k -maxrate:v:2 3200k -bufsize:v:2 6400k \
  -c:a aac -b:a 64k -ac 2 \
  -f hls -hls_time 2 -hls_list_size 0 -hls_playlist_type vod \
  -var_stream_map "v:0,a:0,name:0 v:1,a:1,name:1 v:2,a:2,name:2" \
  -master_pl_name master.m3u8 \
  -hls_segment_filename "$out/%v/seg-%03d.ts" "$out/%v/index.m3u8"
