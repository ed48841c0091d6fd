#!/usr/bin/env bash
# Installs what LipNet.ML needs on Debian/Ubuntu and restores NuGet packages.
# Native needs: libgtk-3-0 (OpenCvSharp's native library links it), opencv-data (Haar cascades) and ffmpeg (LipNet.ML.Audio
# reads audio tracks with ffmpeg/ffprobe; the tests make 30/60 fps, variable-rate and rotated copies of a clip with it).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libgtk-3-0 opencv-data ffmpeg)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian/Ubuntu packages: ${missing[*]}" >&2
    echo "setup: run as root, or first: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK (dotnet) is not on PATH; install it first (https://dot.net)" >&2
  exit 1
fi
dotnet restore LipNet.ML.sln --verbosity quiet
