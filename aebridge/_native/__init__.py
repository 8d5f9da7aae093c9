"""aebridge's one compiled module: the per-pixel loops of the convert path, in C
(``_kernels.c``, built by ``setup.py`` when the package is installed).

Each loop is the compiled form of a rule defined in Python beside its caller, and
``tests/unit/test_native.py`` holds it to that rule bit for bit:

* :func:`yuv_rgb`: Y'CbCr to R'G'B' (:mod:`aebridge.ingest.moviepixels`);
* :func:`lookup`: a table look-up, clipped (:func:`aebridge.imaging.tables.gather`);
* :func:`gather2d`: the fused 8-bit (value, alpha) tables (:mod:`aebridge.imaging`);
* :func:`zip_split`: EXR zip's byte split and predictor (:mod:`aebridge.exr.scanlines`).
"""

from ._kernels import gather2d, lookup, yuv_rgb, zip_split

__all__ = ["gather2d", "lookup", "yuv_rgb", "zip_split"]
