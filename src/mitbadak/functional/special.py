"""The error function erf on arrays, for the exact GELU (NumPy has no erf; SciPy is not a
dependency).

erf(x) = 2 / sqrt(pi) * integral from 0 to x of e^(-t^2) dt, odd, erf(+-inf) = +-1. The
rational approximations and their coefficients are those of Sun's fdlibm ``s_erf.c`` (1993,
freely redistributable; also in FreeBSD and musl), accurate to about one unit in the last
place in float64:

  |x| < 0.84375          erf(x) = x + x * P(x^2) / Q(x^2)
  0.84375 <= |x| < 1.25  erf(x) = erx + P(|x| - 1) / Q(|x| - 1),   erx = 0.845062911...
  1.25 <= |x| < 6        erf(x) = 1 - exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / |x|
                         (two fits of R/S, split at 1/0.35)
  |x| >= 6               erf(x) = 1 (erfc(6) ~ 2e-17)
"""

from __future__ import annotations

import numpy as np

ERX = 8.45062911510467529297e-01
# erf on [0, 0.84375]
PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
      -5.77027029648944159157e-03, -2.37630166566501626084e-05)
QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02,
      5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06)
# erf on [0.84375, 1.25]
PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
      3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
      -2.16637559486879084300e-03)
QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01,
      7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02,
      1.19844998467991074170e-02)
# erfc on [1.25, 1/0.35]
RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
      -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
      -8.12874355063065934246e+01, -9.81432934416914548592e+00)
SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
      6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
      6.57024977031928170135e+00, -6.04244152148580987438e-02)
# erfc on [1/0.35, 28]
RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
      -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
      -4.83519191608651397019e+02)
SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
      3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
      -2.24409524465858183362e+01)


def _poly(z: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """c0 + c1 z + c2 z^2 + ... by Horner's rule."""
    result = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:
        result *= z
        result += c
    return result


def erf(x: np.ndarray) -> np.ndarray:
    """erf of every element of a floating array, in its dtype (see the module docstring)."""
    a = np.abs(x)
    y = np.ones_like(a)  # |x| >= 6 (and inf)
    small = a < 0.84375
    s = a[small]
    z = s * s
    y[small] = s + s * (_poly(z, PP) / _poly(z, QQ))
    mid = (a >= 0.84375) & (a < 1.25)
    s = a[mid] - 1
    y[mid] = ERX + _poly(s, PA) / _poly(s, QA)
    tail = (a >= 1.25) & (a < 6)
    s = a[tail]
    inv = 1 / (s * s)
    r_over_s = np.where(s < 1 / 0.35, _poly(inv, RA) / _poly(inv, SA),
                        _poly(inv, RB) / _poly(inv, SB))
    y[tail] = 1 - np.exp(-s * s - 0.5625 + r_over_s) / s
    y[np.isnan(a)] = np.nan
    return np.copysign(y, x)
