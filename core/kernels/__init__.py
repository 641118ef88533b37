"""Numba kernels: downsampling (LTTB, MinMaxLTTB) and batched line fits, each behind a validating wrapper."""

from core.kernels.lttb import lttb_indices
from core.kernels.minmax import minmax_lttb_indices
from core.kernels.regress import OlsFit, RobustFit, fit_ols_batch, fit_theil_sen_batch

__all__ = ["OlsFit", "RobustFit", "fit_ols_batch", "fit_theil_sen_batch", "lttb_indices",
           "minmax_lttb_indices"]
