#!/usr/bin/env python3
"""Compile the doc examples of the safe Rust DMA API against a built kernel.

The kernel builds its doctests only with CONFIG_RUST_KERNEL_DOCTESTS, and
never checks `compile_fail` examples. This script does both for the files
under rust/kernel/dma/: every example is compiled as a crate of its own
against the kernel crate of the build directory, with the rustc command line
kbuild used for a Rust sample there. A plain example must compile; a
`compile_fail,E0123` example must fail with that error code.

Prints one line per example and a last line "N passed, M failed"; the exit
status is 1 if any failed.
"""

import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = re.compile(r'^\s*//[/!] ?```(.*)$')
DOC = re.compile(r'^\s*//[/!] ?(.*)$')


def examples(path):
    """Yields (line, info, code) for each fenced example in the doc comments."""
    lines = open(path).read().split('\n')
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        info, start, code = m.group(1).strip(), i + 1, []
        i += 1
        while i < len(lines) and not FENCE.match(lines[i]):
            d = DOC.match(lines[i])
            text = d.group(1) if d else ''
            # rustdoc's hidden lines.
            if text.startswith('# ') or text == '#':
                text = text[2:]
            code.append(text)
            i += 1
        i += 1
        if info in ('', 'rust') or info.startswith('compile_fail'):
            yield start, info, '\n'.join(code)


def rustc_command(build_dir):
    """The rustc command line kbuild used for a Rust sample, as a list."""
    cmds = glob.glob(os.path.join(build_dir, 'samples/rust/.rust_*.o.cmd'))
    if not cmds:
        sys.exit('doc-examples: no Rust sample built in %s' % build_dir)
    text = open(cmds[0]).read()
    cmd = text.split(':=', 1)[1].split('\n', 1)[0]
    argv = shlex.split(cmd)
    # Drop the environment assignments and the compiler (rustc or clippy-driver).
    while '=' in argv[0]:
        argv.pop(0)
    argv[0] = 'rustc'
    out = []
    for a in argv:
        if a.startswith('--emit=') or a.startswith('--out-dir') or a.endswith('.rs'):
            continue
        if a == 'samples/rust/':
            continue
        out.append(a)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build-dir', required=True)
    ap.add_argument('--src', default=os.path.join(TOP, 'rust/kernel/dma'))
    args = ap.parse_args()

    base = rustc_command(os.path.abspath(args.build_dir))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob(os.path.join(args.src, '*.rs'))):
            name = os.path.relpath(path, TOP)
            for line, info, code in examples(path):
                src = os.path.join(tmp, 'example.rs')
                with open(src, 'w') as f:
                    f.write('#![allow(dead_code, unused_imports, missing_docs)]\n')
                    f.write('use kernel::prelude::*;\n' if 'prelude' not in code else '')
                    f.write(code + '\n')
                cmd = base + ['--crate-name', 'doc_example',
                              '--emit=metadata=' + os.path.join(tmp, 'ex.rmeta'), src]
                r = subprocess.run(cmd, cwd=args.build_dir, capture_output=True, text=True,
                                   env=dict(os.environ, RUSTC_BOOTSTRAP='1'))
                codes = set(re.findall(r'error\[(E\d{4})\]', r.stderr))
                if info.startswith('compile_fail'):
                    want = info.split(',')[1] if ',' in info else None
                    ok = r.returncode != 0 and (want is None or want in codes)
                    what = 'fails with %s' % (want or 'an error')
                    got = 'compiled' if r.returncode == 0 else ', '.join(sorted(codes)) or 'no code'
                else:
                    ok = r.returncode == 0
                    what, got = 'compiles', 'errors:\n' + r.stderr
                print('doc-examples: %s:%d %s: %s' % (name, line, what, 'ok' if ok else 'FAILED (%s)' % got))
                passed += ok
                failed += not ok
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
