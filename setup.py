"""Builds aebridge's one compiled module; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "aebridge._native._kernels",
            sources=["aebridge/_native/_kernels.c"],
            # -ffp-contract=off: no fused multiply-add, and -fno-fast-math (after
            # any CFLAGS): the float64 arithmetic rounds where the numpy reference
            # rounds (aebridge/_native/_kernels.c refuses a fast-math build).
            extra_compile_args=[
                "-O3",
                "-ffp-contract=off",
                "-fno-fast-math",
                "-fno-math-errno",
            ],
        )
    ]
)
