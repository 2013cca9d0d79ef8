"""The presentation layer from Python: summaries, variance components and
likelihood-ratio tests as text, Markdown, HTML and LaTeX, all rendered in Rust."""

from __future__ import annotations

import re
import shutil
import subprocess

import polars as pl
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"


@pytest.fixture(scope="module")
def lmm_fit():
    return mm.lmm(SLEEP, mm.dataset("sleepstudy"))


@pytest.fixture(scope="module")
def glmm_fit():
    return mm.glmm(CBPP, mm.dataset("cbpp"), family="binomial")


@pytest.fixture(scope="module")
def underscored():
    """A model whose names carry underscores, which LaTeX must escape."""
    df = mm.dataset("sleepstudy").rename({"Days": "n_days", "Subject": "sub_ject"})
    return mm.lmm("Reaction ~ 1 + n_days + (1 + n_days | sub_ject)", df)


def six_digits(x: float) -> str:
    """A number to six significant digits, as the coefficient table shows it."""
    return f"{x:.6g}"


def test_text_summary_is_what_print_shows(lmm_fit, glmm_fit):
    for m in (lmm_fit, glmm_fit):
        assert m.summary() == str(m) == m.summary(format="text") == repr(m)
        assert m.summary(format="TEXT") == str(m)
    assert str(lmm_fit).startswith("Linear mixed model fit by maximum likelihood\n")
    assert "  Deviance: " in str(glmm_fit)


def test_repr_html_is_a_table_with_names_and_estimates(lmm_fit, glmm_fit):
    for m in (lmm_fit, glmm_fit):
        html = m._repr_html_()
        assert html == m.summary(format="html")
        assert html.count("<table") == html.count("</table>") == 3
        assert "<thead>" in html and "<tbody>" in html and "<pre>" not in html
        for row in m.coeftable().iter_rows(named=True):
            assert f'<td style="text-align: left;">{row["name"]}</td>' in html
            cell = f'<td style="text-align: right;">{six_digits(row["estimate"])}</td>'
            assert cell in html
    assert "P(&gt;|z|)" in lmm_fit._repr_html_()


def test_markdown_tables_have_header_and_separator(lmm_fit, glmm_fit):
    md = lmm_fit._repr_markdown_()
    lines = md.splitlines()
    header = lines.index("|  | Estimate | Std.Error | z value | P(\\>\\|z\\|) |")
    assert lines[header + 1] == "|:--|--:|--:|--:|--:|"
    assert lines[header + 2].startswith("| (Intercept) | 251.405 |")
    assert "|  | Column | Variance | Std.Dev. | Corr. |" in lines
    assert any(line.startswith("| Residual |  |") for line in lines)
    gmd = glmm_fit._repr_markdown_()
    assert "| logLik | deviance | AIC | BIC |" in gmd
    assert "Residual" not in gmd


def tabulars(tex: str) -> list[tuple[str, list[str]]]:
    """(column spec, body rows) of each tabular environment."""
    found = re.findall(r"\\begin\{tabular\}\{([lr]+)\}\n(.*?)\\end\{tabular\}", tex, re.S)
    return [(spec, [r for r in body.split("\n") if r.endswith("\\\\")]) for spec, body in found]


def check_latex(tex: str, ntables: int) -> None:
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == ntables
    tables = tabulars(tex)
    assert len(tables) == ntables
    for spec, rows in tables:
        assert rows
        for row in rows:
            cells = re.split(r"(?<!\\)&", row)
            assert len(cells) == len(spec), row
    assert not re.search(r"(?<!\\)_", tex), "unescaped underscore"
    assert tex.count("$") % 2 == 0


def test_repr_latex_is_structurally_valid(lmm_fit, glmm_fit, underscored):
    check_latex(lmm_fit._repr_latex_(), 3)
    check_latex(glmm_fit._repr_latex_(), 3)
    tex = underscored._repr_latex_()
    check_latex(tex, 3)
    assert "n\\_days" in tex and "sub\\_ject" in tex
    assert "$<$1e-99" in tex and "P($>|$z$|$)" in tex


def test_varcorr_renders_from_rust(lmm_fit, glmm_fit):
    vc = lmm_fit.varcorr()
    assert repr(vc).startswith("Variance components:\n")
    assert repr(vc) + "\n" in str(lmm_fit)
    assert vc.render("text") == repr(vc) + "\n"
    assert "<table" in vc._repr_html_() and "Residual" in vc._repr_html_()
    assert vc._repr_markdown_().splitlines()[2] == "|  | Column | Variance | Std.Dev. | Corr. |"
    check_latex(vc._repr_latex_(), 1)
    gvc = glmm_fit.varcorr()
    assert "herd" in repr(gvc) and "Residual" not in repr(gvc)
    assert repr(gvc) + "\n" in str(glmm_fit)
    with pytest.raises(ValueError, match="unknown format"):
        vc.render("rtf")


def test_unknown_format_is_refused(lmm_fit):
    with pytest.raises(ValueError, match="unknown format"):
        lmm_fit.summary(format="pdf")
    for native in (lmm_fit._core.summary, lmm_fit._core.varcorr_table):
        with pytest.raises(Exception, match="unknown format"):
            native("md")


def test_unfitted_models_render_nothing():
    m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    assert m._repr_html_() is None and m._repr_latex_() is None
    assert str(m) == repr(m)
    with pytest.raises(Exception, match="fitted"):
        m.summary(format="html")
    with pytest.raises(Exception, match="fitted"):
        m._core.varcorr_table("text")
    g = mm.GeneralizedLinearMixedModel(CBPP, mm.dataset("cbpp"), "binomial")
    assert g._repr_markdown_() is None
    with pytest.raises(Exception, match="fitted"):
        g._core.coeftable_render("markdown")


def test_likelihood_ratio_test_table():
    df = mm.dataset("sleepstudy")
    m0 = mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df)
    m1 = mm.lmm(SLEEP, df)
    t = mm.LikelihoodRatioTest(m0, m1)
    assert t.to_polars().equals(mm.likelihoodratiotest(m0, m1))
    lines = repr(t).splitlines()
    assert lines[0] == "Likelihood-ratio tests:"
    assert lines[2].split() == ["model", "model-dof", "-2", "logLik", "χ²", "χ²-dof", "P(>χ²)"]
    assert lines[5].startswith(SLEEP) and lines[5].split()[-5:] == [
        "6",
        "1751.9393",
        "23.5365",
        "1",
        "<1e-5",
    ]
    assert '<td style="text-align: right;">23.5365</td>' in t._repr_html_()
    assert "| Reaction ~ 1 + (1 + Days \\| Subject) | 5 | 1775.4759 |  |  |  |" in (
        t._repr_markdown_()
    )
    check_latex(t._repr_latex_(), 1)
    with pytest.warns(mm.RefitWarning):
        refit = mm.LikelihoodRatioTest(m0, mm.lmm(SLEEP, df, reml=True))
    assert refit.refitted == [2] and not refit.reml
    assert refit.to_polars().equals(t.to_polars())
    reml = mm.LikelihoodRatioTest(
        mm.lmm("Reaction ~ 1 + Days + (1 | Subject)", df, reml=True), mm.lmm(SLEEP, df, reml=True)
    )
    assert reml.reml and repr(reml).splitlines()[2].split()[2:4] == ["REML", "crit."]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(tmp_path, lmm_fit, glmm_fit, underscored):
    df = mm.dataset("sleepstudy")
    lrt = mm.LikelihoodRatioTest(mm.lmm("Reaction ~ 1 + (1 + Days | Subject)", df), lmm_fit)
    parts = [
        lmm_fit._repr_latex_(),
        glmm_fit._repr_latex_(),
        underscored._repr_latex_(),
        underscored.varcorr()._repr_latex_(),
        lrt._repr_latex_(),
    ]
    body = "\n\\bigskip\n".join(parts)
    doc = "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\begin{document}\n"
    (tmp_path / "summary.tex").write_text(doc + body + "\n\\end{document}\n", encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "summary.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "summary.pdf").stat().st_size > 0


def test_polars_tables_are_unchanged(lmm_fit):
    assert isinstance(lmm_fit.coeftable(), pl.DataFrame)
    assert lmm_fit.varcorr().to_polars()["group"].to_list() == ["Subject", "Subject", "Residual"]
