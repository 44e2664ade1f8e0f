import numpy as np
import pytest
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp

from tradeforge.research.pairs.mackinnon import mackinnon_crit, mackinnon_p


@pytest.mark.parametrize("regression", ["n", "c"])
@pytest.mark.parametrize("n_series", [1, 2, 3, 6])
def test_pvalues_match_statsmodels(regression: str, n_series: int) -> None:
    stats = np.linspace(-30, 4, 1501)
    ours = mackinnon_p(stats, regression, n_series)
    ref = np.array([mackinnonp(t, regression, n_series) for t in stats])
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-14)


def test_scalar_nan_and_bad_args() -> None:
    assert float(mackinnon_p(-3.5, "c", 2)) == pytest.approx(mackinnonp(-3.5, "c", 2), abs=1e-15)
    assert np.isnan(mackinnon_p(np.array([np.nan]))[0])
    with pytest.raises(ValueError):
        mackinnon_p(1.0, "ct", 1)


@pytest.mark.parametrize("n_series", [1, 2])
def test_critical_values_match_statsmodels(n_series: int) -> None:
    for nobs in (100, 252, 1000, np.inf):
        np.testing.assert_allclose(mackinnon_crit(n_series, nobs), mackinnoncrit(n_series, "c", nobs), atol=1e-12)
