#!/usr/bin/env bash
# Builds the verification tools that come from the Go module proxy (krew, its manifest
# validator, crictl, k9s-plugin-check) into a cache outside the repo, one directory per tool and pinned version:
#   ${KNETNS_CACHE_DIR:-/var/cache/kubectl-netns}/tools/<name>-<version>/<name>
# GOPATH, GOMODCACHE and GOCACHE live under that cache too, so nothing else on the machine changes.
# A tool already present is not rebuilt. Nothing built here is ever committed.
#
# Usage: scripts/tools/build.sh [NAME...]   (no NAME: every tool that can be built)
# stdout: one NAME=PATH line per tool; stderr: progress and errors.
# Exit status: 0 when every requested tool is present, 1 when any could not be built,
# 2 on bad usage.
set -euo pipefail

GO="${GO:-/usr/local/go/bin/go}"
CACHE_DIR="${KNETNS_CACHE_DIR:-/var/cache/kubectl-netns}"
TOOLS_DIR="$CACHE_DIR/tools"

# The proxy serves sigs.k8s.io/krew v0.4.3, v0.4.4 and v0.5.0 (newest); v0.4.5 answers 403.
KREW_VERSION=v0.5.0
# crictl: checks the agent's PID/netns discovery against the CRI's own `crictl inspect`.
CRI_TOOLS_VERSION=v1.37.0
# k9s: its plugin-file validator and argument expansion, for deploy/k9s (k9s-plugin-check).
K9S_VERSION=v0.50.16
# ksniff: the benchmark's third contender, if the proxy ever serves it (it does not: see tool_source).
KSNIFF_VERSION=v1.6.2

log() { printf 'tools: %s\n' "$*" >&2; }

# Prints "<go package> <version> [<extra -ldflags>]" for a buildable tool;
# fails with the reason for any other name.
tool_source() {
  case "$1" in
    krew) echo "sigs.k8s.io/krew/cmd/krew $KREW_VERSION" ;;
    validate-krew-manifest) echo "sigs.k8s.io/krew/cmd/validate-krew-manifest $KREW_VERSION" ;;
    crictl)
      echo "sigs.k8s.io/cri-tools/cmd/crictl $CRI_TOOLS_VERSION" \
        "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" ;;
    k9s-plugin-check)
      # Our main.go is part of the tool: a change to it is a new version.
      echo "github.com/derailed/k9s $K9S_VERSION-$(sha256sum "$(dirname "$0")/k9s-plugin-check/main.go" | cut -c1-12)" ;;
    ksniff)
      # Its go.mod says `module ksniff` (no domain), so no module proxy can serve it under
      # github.com/eldadru/ksniff: proxy.golang.org answers 403 "This module version is not
      # available" for every version and for @latest. Tried anyway, so the reason printed is the
      # proxy's own answer of the day (the benchmark quotes it).
      echo "github.com/eldadru/ksniff/cmd $KSNIFF_VERSION" ;;
    *) log "unknown tool '$1'"; return 1 ;;
  esac
}

# The environment every Go command here runs with: caches under CACHE_DIR (-modcacherw: deletable
# with a plain rm -rf), never another toolchain (GOTOOLCHAIN=local), a static binary (CGO off)
# that keeps working whatever libc the cache is later used with.
go_env() {
  GOPATH="$CACHE_DIR/go" \
    GOMODCACHE="$CACHE_DIR/go/pkg/mod" \
    GOCACHE="$CACHE_DIR/go/build-cache" \
    GOFLAGS="-mod=mod -modcacherw" \
    GOTOOLCHAIN=local \
    CGO_ENABLED=0 \
    "$@"
}

# k9s-plugin-check (scripts/tools/k9s-plugin-check/main.go) imports k9s's internal packages, which
# only code inside k9s's module may do: it is built in a copy of that module, with k9s's
# internal/view/env.go (the expansion of $NAME...) copied next to it. The copy is deleted after.
build_k9s_plugin_check() {
  local tmp="$1" version="$2" src dir
  src="$(go_env "$GO" mod download -json "github.com/derailed/k9s@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$src" && -d "$src" ]] || { log "k9s $version: go mod download failed"; return 1; }
  dir="$tmp/k9s-src"
  cp -r "$src" "$dir"
  chmod -R u+w "$dir"
  mkdir -p "$dir/cmd/k9s-plugin-check"
  cp "$(dirname "$0")/k9s-plugin-check/main.go" "$dir/cmd/k9s-plugin-check/main.go"
  sed 's/^package view$/package main/' "$dir/internal/view/env.go" >"$dir/cmd/k9s-plugin-check/env.go"
  (cd "$dir" && go_env "$GO" build -trimpath -ldflags="-s -w" -o "$tmp/k9s-plugin-check" ./cmd/k9s-plugin-check) >&2 || return 1
  rm -rf "$dir"
}

# Builds one tool into its versioned directory unless it is already there; prints NAME=PATH.
build_tool() {
  local name="$1" source pkg version ldflags dir tmp started
  source="$(tool_source "$name")" || return
  read -r pkg version ldflags <<<"$source"
  dir="$TOOLS_DIR/$name-$version"
  if [[ -x "$dir/$name" ]]; then
    echo "$name=$dir/$name"
    return 0
  fi
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  log "building $name from $pkg@$version"
  started=$SECONDS
  # Unstamped build (no version.gitTag): krew treats it as a dev build and never checks GitHub
  # for upgrades.
  if [[ "$name" == k9s-plugin-check ]]; then
    if ! build_k9s_plugin_check "$tmp" "${version%%-*}"; then
      rm -rf "$tmp"
      log "$name: build failed"
      return 1
    fi
  elif ! GOBIN="$tmp" go_env "$GO" install -trimpath -ldflags="-s -w $ldflags" "$pkg@$version" >&2; then
    rm -rf "$tmp"
    log "$name: go install failed"
    if [[ "$name" == ksniff ]]; then
      log "ksniff: its go.mod declares 'module ksniff', which does not match github.com/eldadru/ksniff, so the Go module proxy cannot serve it"
    fi
    return 1
  fi
  # go install names the binary after the package directory (cmd for ksniff).
  if [[ ! -x "$tmp/$name" && -x "$tmp/$(basename "$pkg")" ]]; then mv "$tmp/$(basename "$pkg")" "$tmp/$name"; fi
  rm -rf "$dir"
  mv "$tmp" "$dir"
  log "built $name $version in $((SECONDS - started))s"
  echo "$name=$dir/$name"
}

main() {
  local names=("$@") name status=0
  if [[ ${#names[@]} -eq 0 ]]; then
    names=(krew validate-krew-manifest crictl k9s-plugin-check)
  fi
  for name in "${names[@]}"; do
    case "$name" in
      krew | validate-krew-manifest | crictl | ksniff | k9s-plugin-check) ;;
      *) log "unknown tool '$name' (known: krew validate-krew-manifest crictl ksniff k9s-plugin-check)"; exit 2 ;;
    esac
  done
  [[ -x "$GO" ]] || { log "no Go at $GO (set GO=...)"; exit 1; }
  mkdir -p "$TOOLS_DIR"
  # One builder at a time per cache; a second caller waits, then finds the tools built.
  exec 9>"$TOOLS_DIR/.lock"
  flock 9
  for name in "${names[@]}"; do
    build_tool "$name" || status=1
  done
  exit "$status"
}

main "$@"
