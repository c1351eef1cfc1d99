"""Only the text decoder's C kernel is declared here; everything else is in pyproject.toml.

(setuptools' `[tool.setuptools.ext-modules]` table is still experimental and warns on every
build.) The extension is optional: where it cannot be built (no C compiler or Python headers)
the install goes on and the decoder runs its numpy path, with the same results
(edge/decoder/text_kernel.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("csi_edge.decoder._textscan", ["edge/decoder/_textscan.c"], optional=True, extra_compile_args=["-O2"]),
    ]
)
