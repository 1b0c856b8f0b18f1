#!/usr/bin/env bash
# check-breaking.sh - the breaking-change gate of `make check-breaking`.
#
# Compares openapi.yaml with its version at a base git ref using oasdiff and fails when a
# change would break existing clients (oasdiff's ERR level: a removed operation, a request
# member that became required, a narrowed type, ...).
#
#   BASE=<ref>   compare with this ref instead of the default: the newest release tag
#                v* reachable from HEAD, else the first commit that has the file
#   SPEC=<file>  the document to check (default openapi.yaml, relative to the repo root)
#
# A deliberate breaking change passes only when it is released as one: info.version's
# major number is above the base's and CHANGELOG.md has a "## [X.Y.Z]" section for the
# new version. Once that version is tagged (vX.Y.Z) the tag becomes the new base.
#
# Exit status: 0 no breaking change (or an accepted major release), 1 breaking changes,
# 2 the comparison could not run.
set -euo pipefail

oasdiff_version=v1.21.0
spec=${SPEC:-openapi.yaml}

fail() { echo "check-breaking: $*" >&2; exit 2; }

root=$(git rev-parse --show-toplevel 2>/dev/null) || fail "not inside a git repository"
cd "$root"
[ -f "$spec" ] || fail "$spec does not exist"

# oasdiff is built once per version into bin/ (git-ignored) with `go install pkg@version`,
# which, like `go run pkg@version`, ignores this module's go.mod: the tool's dependencies
# never enter it. The binary (unlike `go run`) keeps oasdiff's own exit status.
oasdiff=${OASDIFF:-$root/bin/oasdiff-$oasdiff_version/oasdiff}
if [ ! -x "$oasdiff" ]; then
  echo "check-breaking: building oasdiff $oasdiff_version"
  GOBIN=$(dirname "$oasdiff") go install "github.com/oasdiff/oasdiff@$oasdiff_version" ||
    fail "could not build oasdiff $oasdiff_version"
fi

if [ -n "${BASE:-}" ]; then
  base=$BASE
  why="BASE"
elif base=$(git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD 2>/dev/null); then
  why="the last release tag"
else
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    fail "shallow clone and no release tag: run 'git fetch --unshallow --tags' or set BASE=<ref>"
  fi
  base=$(git log --diff-filter=A --format=%H -- "$spec" | tail -n 1)
  why="the first commit that has $spec"
  if [ -z "$base" ]; then
    echo "check-breaking: no commit has $spec yet; nothing to compare with"
    exit 0
  fi
fi
commit=$(git rev-parse --verify --quiet "$base^{commit}") || fail "unknown base ref '$base' (fetch it, or set BASE=<ref>)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git show "$commit:$spec" >"$tmp/base.yaml" 2>/dev/null || fail "$spec does not exist at $base"

# info.version of a document: the first "  version:" line under the top-level "info:".
info_version() {
  awk '/^info:/ { inside = 1; next }
       inside && /^[^ #]/ { exit }
       inside && /^  version:/ { sub(/^  version:[ \t]*/, ""); gsub(/["\047 \t\r]/, ""); print; exit }' "$1"
}
base_version=$(info_version "$tmp/base.yaml")
new_version=$(info_version "$spec")

label=$base
[ "$base" = "$commit" ] && label=${commit:0:12}
echo "check-breaking: $spec (version $new_version) against $label (version $base_version; $why)"
set +e
"$oasdiff" breaking "$tmp/base.yaml" "$spec" --fail-on ERR --color never --format text
status=$?
set -e
case $status in
  0) echo "check-breaking: no breaking changes"; exit 0 ;;
  1) ;;
  *) fail "oasdiff failed (exit $status)" ;;
esac

major() { echo "${1%%.*}"; }
if [[ $(major "$base_version") =~ ^[0-9]+$ && $(major "$new_version") =~ ^[0-9]+$ ]] &&
  (( $(major "$new_version") > $(major "$base_version") )); then
  if grep -Eq "^## \[?v?${new_version//./\\.}\]?([^0-9.]|$)" CHANGELOG.md 2>/dev/null; then
    echo "check-breaking: accepted as a deliberate breaking change: info.version $base_version -> $new_version and CHANGELOG.md has a section for $new_version"
    exit 0
  fi
  echo "check-breaking: info.version went $base_version -> $new_version but CHANGELOG.md has no '## [$new_version]' section describing the breaking changes" >&2
  exit 1
fi
cat >&2 <<EOF
check-breaking: $spec breaks clients of version $base_version (see above).
  Make the change compatible (add instead of change; keep what exists), or release it as
  a breaking change: raise info.version's major number, add a '## [X.0.0]' section to
  CHANGELOG.md, and tag the release vX.0.0 (README.md, "Breaking changes").
EOF
exit 1
