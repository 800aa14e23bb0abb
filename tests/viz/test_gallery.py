"""Template thumbnails: a lead with no signal is marked "lead off", not drawn flat."""

from __future__ import annotations

import numpy as np

from holterlab.viz.gallery import LEAD_OFF_TEXT, lead_off, template_svg


def _template(n_leads: int = 3, n: int = 80) -> np.ndarray:
    x = np.linspace(-1, 1, n)
    qrs = np.exp(-((x / 0.1) ** 2))
    return np.stack([qrs * (k + 1) * 0.5 for k in range(n_leads)]).astype(np.float32)


def test_lead_off_finds_all_zero_and_non_finite_leads():
    t = _template(4)
    t[1] = 0.0
    t[2] = np.nan
    t[3, :40] = np.nan
    t[3, 40:] = 0.0  # zeros and NaN: no signal either
    np.testing.assert_array_equal(lead_off(t), [False, True, True, True])
    flat_but_real = _template(1) * 0 + 0.05  # a constant offset is not "off"
    assert not lead_off(flat_but_real)[0]


def test_all_zero_lead_is_marked_lead_off_and_not_drawn():
    t = _template(3)
    t[1] = 0.0
    svg = template_svg(t, color="#e03131", width=160, height=90)
    assert svg.count("<path") == 2  # only the two live leads have a trace
    assert svg.count('class="lead-off"') == 1 and LEAD_OFF_TEXT in svg
    # the label sits in the middle band (lead 1 of 3, 30 px each)
    y = float(svg.split('class="lead-off"')[1].split('y="')[1].split('"')[0])
    assert 30 < y < 60
    # no flat trace anywhere: every drawn path spans a real height
    for d in svg.split('d="')[1:]:
        ys = [float(p.split(",")[1]) for p in d.split('"')[0].split()]
        assert max(ys) - min(ys) > 5


def test_normal_template_has_no_lead_off_label():
    svg = template_svg(_template(2), mv_range=2.0)
    assert svg.count("<path") == 2 and "lead-off" not in svg


def test_every_lead_off():
    svg = template_svg(np.zeros((2, 50)))
    assert "<path" not in svg and svg.count('class="lead-off"') == 2
