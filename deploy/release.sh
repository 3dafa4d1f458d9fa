#!/usr/bin/env bash
# Builds assessgate's release binaries: static (CGO_ENABLED=0, pure-Go
# SQLite), one per target, each packed with LICENSE and README.md as
# dist/assessgate-VERSION-OS-ARCH.tar.gz, with dist/SHA256SUMS.
# docs/releasing.md describes the whole release; TestRelease runs this.
#
#   deploy/release.sh                    # VERSION from git describe
#   VERSION=v1.2.0 OUT=/tmp/dist deploy/release.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo unknown)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
out=${OUT:-dist}
targets=${TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"}
pkg=github.com/assessgate/assessgate/internal/assessgate

mkdir -p "$out"
for target in $targets; do
  os=${target%/*} arch=${target#*/}
  name="assessgate-$version-$os-$arch"
  rm -rf "${out:?}/$name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags="-s -w -X $pkg.buildVersion=$version -X $pkg.buildCommit=$commit" \
    -o "$out/$name/assessgate" ./cmd/assessgate
  cp LICENSE README.md "$out/$name/"
  tar -C "$out" -czf "$out/$name.tar.gz" "$name"
  echo "$out/$name.tar.gz"
done
(cd "$out" && sha256sum -- *.tar.gz >SHA256SUMS)
