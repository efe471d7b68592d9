"""One home for real against real: the table, its look-up and the small-n warning."""
from metrics import reference
from metrics.reference import (DOCUMENTED_N, REAL_AGAINST_REAL, describe, real_against_real,
                               small_n_warning)


def test_every_built_in_look_and_size_is_tabulated_down_from_the_documented_n():
    for look in ('standard', 'large'):
        for n_frames, size in reference.SIZES:
            table = REAL_AGAINST_REAL[(look, n_frames, size)]
            assert DOCUMENTED_N in table and min(table) <= 16
            values = [table[n] for n in sorted(table)]
            assert values == sorted(values, reverse=True), 'fewer clips, higher floor'


def test_between_tabulated_counts_the_value_lies_between_theirs():
    table = REAL_AGAINST_REAL[('standard', 32, 64)]
    assert real_against_real('standard', 32, 64, 256) == table[256]
    assert table[256] < real_against_real('standard', 32, 64, 200) < table[128]
    assert real_against_real('standard', 32, 64, 4096) == table[max(table)]
    assert real_against_real('standard', 32, 48, 256) is None


def test_the_reference_line_names_size_look_and_clips():
    value = REAL_AGAINST_REAL[('large', 16, 32)][DOCUMENTED_N]
    assert describe('large', 16, 32, DOCUMENTED_N) == (
        f'real against real at 32x32x16, large look, {DOCUMENTED_N} clips: {value:.1f}')
    assert 'not tabulated' in describe('standard', 16, 16, 8)
    assert 'not tabulated' in describe(None, 32, 64, 256)


def test_fewer_clips_than_documented_is_warned_about():
    assert small_n_warning(DOCUMENTED_N) is None
    assert small_n_warning(16).startswith('warning: 16 clips of each kind; documented scores'
                                          f' use {DOCUMENTED_N}')
