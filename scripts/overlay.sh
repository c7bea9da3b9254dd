#!/usr/bin/env bash
# Apply the repo's kernel-tree files and patches/series onto build/linux.
#
# Safe to re-run after every edit. Files are staged first and copied into the
# working tree only where their content changed, so make's incremental build
# stays incremental. A file that left the overlay gets its pristine content
# back (or is removed, if upstream has no such file).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

# The repo directories that mirror the kernel tree. tools/testing/dma is the
# host-side test workspace and stays out of the kernel tree.
roots=(arch drivers include kernel lib mm rust samples Documentation tools/testing/kunit)

[ -f "$PRISTINE/Makefile" ] || { echo "overlay: no kernel source; run scripts/setup.sh" >&2; exit 1; }
if [ ! -f "$KSRC/Makefile" ]; then
	echo "overlay: creating the working tree $KSRC"
	rm -rf "$KSRC.tmp"
	cp -a "$PRISTINE" "$KSRC.tmp"
	mv "$KSRC.tmp" "$KSRC"
fi

stage=$BUILD/overlay-stage
rm -rf "$stage"
mkdir -p "$stage"
manifest_new=$BUILD/overlay-manifest.new
: >"$manifest_new"

# 1. Patched upstream files: pristine copy, then the series, in the stage.
series=$top/patches/series
if [ -f "$series" ]; then
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		pf=$top/patches/$p
		[ -f "$pf" ] || { echo "overlay: patches/series names $p, which does not exist" >&2; exit 1; }
		for f in $(sed -n 's@^+++ b/\([^[:space:]]*\).*@\1@p' "$pf"); do
			if [ ! -e "$stage/$f" ]; then
				mkdir -p "$stage/$(dirname "$f")"
				[ -f "$PRISTINE/$f" ] && cp -p "$PRISTINE/$f" "$stage/$f"
				echo "$f" >>"$manifest_new"
			fi
		done
		if ! out=$(patch -d "$stage" -p1 --forward --batch --no-backup-if-mismatch -r - <"$pf" 2>&1); then
			echo "overlay: patch $p does not apply:" >&2
			echo "$out" >&2
			exit 1
		fi
	done <"$series"
fi

# 2. The repo's own kernel-tree files.
for r in "${roots[@]}"; do
	[ -d "$top/$r" ] || continue
	(cd "$top" && find "$r" -type f ! -name '*.orig' ! -name '*.rej' ! -name '*~') | while read -r f; do
		if [ -e "$stage/$f" ]; then
			echo "overlay: $f is both patched and shipped whole; keep one" >&2
			exit 1
		fi
		mkdir -p "$stage/$(dirname "$f")"
		cp -p "$top/$f" "$stage/$f"
		echo "$f" >>"$manifest_new"
	done
done

# 3. Copy what changed; restore what left the overlay. A changed file gets
# the time of the copy, not the one of the repo's file: a file edited while
# a kernel was building is older than the objects that build made from its
# previous content, and make would keep them.
rsync -rlp --checksum "$stage/" "$KSRC/"
sort -u -o "$manifest_new" "$manifest_new"
manifest=$BUILD/overlay-manifest
if [ -f "$manifest" ]; then
	comm -23 "$manifest" "$manifest_new" | while read -r f; do
		if [ -f "$PRISTINE/$f" ]; then
			# Not -p: the restored file must be newer than the
			# objects built from the overlay's version.
			cp --preserve=mode "$PRISTINE/$f" "$KSRC/$f"
		else
			rm -f "$KSRC/$f"
		fi
		echo "overlay: $f left the overlay"
	done
fi
mv "$manifest_new" "$manifest"
echo "overlay: $(wc -l <"$manifest") files from the repo on $(make -s -C "$PRISTINE" kernelversion)"
