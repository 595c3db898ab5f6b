import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2, false_discovery_control, power_divergence
from scipy.stats.contingency import expected_freq

from hcrisis.text import keyness as stats
from hcrisis.errors import HcrisisError


def test_g2_hand_computed_contingency():
    # 20 of 1,000 words in A, 5 of 1,000 in B: E1 = E2 = 12.5
    expected = 2 * (20 * math.log(20 / 12.5) + 5 * math.log(5 / 12.5))
    assert stats.g2(20, 5, 1000, 1000) == pytest.approx(expected)
    assert expected == pytest.approx(9.637237851)
    assert stats.signed_g2(20, 5, 1000, 1000) == pytest.approx(expected)
    assert stats.signed_g2(5, 20, 1000, 1000) == pytest.approx(-expected)


def test_g2_zero_count_uses_zero_log_zero():
    # b = 0: only the A cell contributes, 2·a·ln(a/E1) with E1 = 100·10/300
    assert stats.g2(10, 0, 100, 200) == pytest.approx(2 * 10 * math.log(10 / (100 * 10 / 300)))
    assert stats.g2(0, 0, 100, 200) == 0


@pytest.mark.parametrize("a,b,ta,tb", [(20, 5, 1000, 1000), (3, 40, 250, 9000), (0, 7, 50, 60)])
def test_full_table_g2_matches_scipy(a, b, ta, tb):
    table = np.array([[a, b], [ta - a, tb - b]], dtype=float)
    ref = power_divergence(table, f_exp=expected_freq(table), lambda_="log-likelihood", axis=None)
    assert stats.g2(a, b, ta, tb, full_table=True) == pytest.approx(ref.statistic)


def test_pvalue_is_chi_square_one_df():
    assert stats.g2_pvalue([3.841458820694124])[0] == pytest.approx(0.05)
    assert stats.g2_pvalue(-6.63) == pytest.approx(chi2.sf(6.63, 1))


@given(st.lists(st.floats(-2000, 2000, allow_nan=False), max_size=50))
def test_pvalue_matches_scipy_chi2(values):
    ours, ref = stats.g2_pvalue(values), chi2.sf(np.abs(values), 1)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-300)


def test_log_ratio_and_zero_adjustment():
    assert stats.log_ratio(20, 5, 1000, 1000) == pytest.approx(2.0)
    # Hardie (2014): the zero count becomes 0.5
    assert stats.log_ratio(3, 0, 100, 200) == pytest.approx(math.log2((3 / 100) / (0.5 / 200)))


def test_percent_diff():
    np.testing.assert_allclose(stats.percent_diff([20, 0, 3, 0], [5, 4, 0, 0], 1000, 1000),
                               [300.0, -100.0, np.inf, 0.0])


def test_adjust_bonferroni_and_bh():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.001])
    np.testing.assert_allclose(stats.adjust(p, "bonferroni"), [0.05, 0.2, 0.15, 1.0, 0.005])
    np.testing.assert_allclose(stats.adjust(p, "fdr_bh"), false_discovery_control(p))
    np.testing.assert_allclose(stats.adjust(p, "none"), p)
    with pytest.raises(HcrisisError, match="unknown p-value correction 'holm'"):
        stats.adjust(p, "holm")


def test_keyness_table():
    a = pd.Series({"housing": 20, "tenants": 5, "people": 75})
    b = pd.Series({"housing": 5, "tenants": 20, "people": 75, "money": 0})
    df = stats.keyness(a, b, labels=("la", "ha"))
    assert list(df.columns) == stats.KEYNESS_COLUMNS
    assert df["item"].tolist() == ["housing", "tenants", "money", "people"]
    top = df.iloc[0]
    assert top["count_a"] == 20 and top["count_b"] == 5
    assert top["rate_a"] == pytest.approx(2000.0)
    assert top["g2"] > 0 and top["favours"] == "la" and top["direction"] == 1
    assert df.iloc[1]["g2"] == pytest.approx(-top["g2"]) and df.iloc[1]["favours"] == "ha"
    assert df.attrs["tests"] == 4
    assert df.iloc[3]["favours"] == "" and df.iloc[3]["g2"] == 0


def test_keyness_empty_side_is_an_error():
    with pytest.raises(HcrisisError, match="one side has no counted words"):
        stats.keyness(pd.Series({"a": 1}), pd.Series({"a": 0}))


counts = st.dictionaries(st.sampled_from(list("abcdefgh")), st.integers(0, 50), min_size=1)


@settings(max_examples=60, deadline=None)
@given(counts, counts)
def test_keyness_antisymmetric(ca, cb):
    a, b = pd.Series(ca, dtype=int), pd.Series(cb, dtype=int)
    if a.sum() == 0 or b.sum() == 0:
        return
    ab = stats.keyness(a, b).set_index("item")
    ba = stats.keyness(b, a).set_index("item").reindex(ab.index)
    np.testing.assert_allclose(ab["g2"], -ba["g2"], atol=1e-9)
    finite = np.isfinite(ab["log_ratio"])
    np.testing.assert_allclose(ab["log_ratio"][finite], -ba["log_ratio"][finite], atol=1e-9)
    assert (ab["p"] >= 0).all() and (ab["p_adjusted"] >= ab["p"] - 1e-12).all()
