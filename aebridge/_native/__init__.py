"""aebridge's one compiled module: the per-pixel loops of the convert path, in C
(``_kernels.c``, built by ``setup.py`` when the package is installed).

Each loop is the compiled form of a rule defined in Python beside its caller, and
``tests/unit/test_native.py`` holds it to that rule bit for bit:

* :func:`yuv_rgb`: Y'CbCr to R'G'B' (:mod:`aebridge.ingest.moviepixels`);
* :func:`lookup`: a table look-up, clipped (:func:`aebridge.imaging.tables.gather`);
* :func:`gather2d`: the fused 8-bit (value, alpha) tables (:mod:`aebridge.imaging`);
* :func:`zip_split`: EXR zip's byte split and predictor (:mod:`aebridge.exr.scanlines`).
"""

try:
    from ._kernels import gather2d, lookup, yuv_rgb, zip_split
except ImportError as exc:  # a source checkout that was never built
    raise ImportError(
        "aebridge's compiled loops (aebridge/_native) are not built: install the "
        "package with a C compiler present (pip install -e .), or build them in "
        "place with 'python setup.py build_ext --inplace'"
    ) from exc

__all__ = ["gather2d", "lookup", "yuv_rgb", "zip_split"]
