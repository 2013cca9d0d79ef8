//! R's term algebra on lists of terms: union, removal, interaction,
//! crossing, nesting and powers.

use super::spec::{Term, TermsSpec};

/// Most terms a single crossing or interaction may produce (before removing
/// duplicates); bounds time and memory on pathological input.
pub(crate) const MAX_TERMS: usize = 10_000;

/// The value of a (sub-)formula during expansion.
#[derive(Debug, Clone, Default)]
pub(crate) struct TermList {
    /// Terms in the order produced. An atom-less term stands for an explicit
    /// `1`, so that `(1 + a) * b` crosses to `b + a:b` as in R.
    pub terms: Vec<Term>,
    /// The last explicit intercept choice (`1`, `0`, `- 1`, `- 0`), if any.
    pub intercept: Option<bool>,
    /// Terms removed with `-`: they are also dropped if added again later, so
    /// `- term` works wherever it is written.
    pub removed: Vec<Term>,
}

/// Drops repeated terms, keeping the first of each.
fn dedupe(terms: Vec<Term>) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::with_capacity(terms.len());
    for t in terms {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn too_many() -> String {
    format!("this expands to more than {MAX_TERMS} terms")
}

impl TermList {
    /// A single term.
    pub fn single(term: Term) -> Self {
        TermList {
            terms: vec![term],
            ..Default::default()
        }
    }

    /// `1`: the intercept.
    pub fn one() -> Self {
        TermList {
            terms: vec![Term { atoms: Vec::new() }],
            intercept: Some(true),
            removed: Vec::new(),
        }
    }

    /// `0`: no intercept.
    pub fn zero() -> Self {
        TermList {
            intercept: Some(false),
            ..Default::default()
        }
    }

    /// `self + other`; a later intercept choice overrides an earlier one.
    pub fn add(mut self, other: TermList) -> Self {
        // Only the new terms are checked, so a long sum stays quadratic.
        for t in other.terms {
            if !self.terms.contains(&t) {
                self.terms.push(t);
            }
        }
        self.intercept = other.intercept.or(self.intercept);
        self.removed.extend(other.removed);
        self
    }

    /// `self - other`: removes `other`'s terms; `- 1` removes the intercept
    /// and `- 0` restores it.
    pub fn subtract(mut self, other: TermList) -> Self {
        let drops_intercept = other.terms.iter().any(|t| t.atoms.is_empty());
        let restores_intercept = other.terms.is_empty() && other.intercept == Some(false);
        self.terms.retain(|t| !other.terms.contains(t));
        self.removed
            .extend(other.terms.into_iter().filter(|t| !t.atoms.is_empty()));
        if drops_intercept {
            self.intercept = Some(false);
        } else if restores_intercept {
            self.intercept = Some(true);
        }
        self
    }

    /// Pairwise products of the two term lists, in row-major order.
    fn products(&self, other: &TermList) -> Result<Vec<Term>, String> {
        if self.terms.len().saturating_mul(other.terms.len()) > MAX_TERMS {
            return Err(too_many());
        }
        let mut out = Vec::with_capacity(self.terms.len() * other.terms.len());
        for a in &self.terms {
            for b in &other.terms {
                out.push(Term::new(a.atoms.iter().chain(&b.atoms).cloned().collect()));
            }
        }
        Ok(dedupe(out))
    }

    fn merge_flags(&mut self, other: TermList) {
        self.intercept = other.intercept.or(self.intercept);
        self.removed.extend(other.removed);
    }

    /// `self : other` (also written `&`): every pairwise interaction.
    pub fn interact(mut self, other: TermList) -> Result<Self, String> {
        self.terms = self.products(&other)?;
        self.merge_flags(other);
        Ok(self)
    }

    /// `self * other` = `self + other + self:other`.
    pub fn cross(mut self, other: TermList) -> Result<Self, String> {
        let products = self.products(&other)?;
        self.terms.extend(other.terms.iter().cloned());
        self.terms.extend(products);
        if self.terms.len() > MAX_TERMS {
            return Err(too_many());
        }
        self.terms = dedupe(self.terms);
        self.merge_flags(other);
        Ok(self)
    }

    /// `self / other` = `self + (all of self's atoms):t` for each term `t` of
    /// `other`, so `a / b` is `a + a:b` and `(a + b) / c` is `a + b + a:b:c`.
    pub fn nest(mut self, other: TermList) -> Result<Self, String> {
        let outer: Vec<_> = self
            .terms
            .iter()
            .flat_map(|t| t.atoms.iter().cloned())
            .collect();
        for t in &other.terms {
            self.terms
                .push(Term::new(outer.iter().chain(&t.atoms).cloned().collect()));
        }
        if self.terms.len() > MAX_TERMS {
            return Err(too_many());
        }
        self.terms = dedupe(self.terms);
        self.merge_flags(other);
        Ok(self)
    }

    /// `self ^ n`: crossing of `self` with itself `n` times, i.e. all
    /// interactions of up to `n` of its terms.
    pub fn power(self, n: usize) -> Result<Self, String> {
        let base = TermList {
            terms: self.terms.clone(),
            ..Default::default()
        };
        let mut result = self;
        for _ in 1..n {
            let before = result.terms.len();
            result = result.cross(base.clone())?;
            // Once no new interaction appears, higher powers add nothing.
            if result.terms.len() == before {
                break;
            }
        }
        Ok(result)
    }

    /// The final terms: intercept on unless turned off, duplicates and
    /// removed terms dropped, terms ordered stably by degree as R's
    /// `terms()` does.
    pub fn finish(self) -> TermsSpec {
        let removed = self.removed;
        let mut terms: Vec<Term> = dedupe(self.terms)
            .into_iter()
            .filter(|t| !t.atoms.is_empty() && !removed.contains(t))
            .collect();
        terms.sort_by_key(Term::degree);
        TermsSpec {
            intercept: self.intercept.unwrap_or(true),
            terms,
        }
    }
}

#[cfg(test)]
mod unit {
    use super::super::spec::Atom;
    use super::*;

    fn var(name: &str) -> TermList {
        TermList::single(Term::new(vec![Atom::Variable(name.into())]))
    }

    fn labels(spec: &TermsSpec) -> Vec<String> {
        spec.terms.iter().map(Term::label).collect()
    }

    #[test]
    fn crossing_three_factors_orders_by_degree() {
        let t = var("a").cross(var("b")).unwrap().cross(var("c")).unwrap();
        let spec = t.finish();
        assert_eq!(
            labels(&spec),
            ["a", "b", "c", "a & b", "a & c", "b & c", "a & b & c"]
        );
        assert!(spec.intercept);
    }

    #[test]
    fn power_stops_at_the_number_of_terms() {
        let t = var("a").add(var("b")).power(1_000_000).unwrap().finish();
        assert_eq!(labels(&t), ["a", "b", "a & b"]);
    }

    #[test]
    fn removal_applies_to_later_additions_too() {
        let t = TermList::default()
            .subtract(var("a"))
            .add(var("a").cross(var("b")).unwrap())
            .finish();
        assert_eq!(labels(&t), ["b", "a & b"]);
    }

    #[test]
    fn huge_crossings_are_refused() {
        let mut t = var("x0");
        let mut result = Ok(());
        for i in 1..20 {
            match t.clone().cross(var(&format!("x{i}"))) {
                Ok(next) => t = next,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        assert!(result.unwrap_err().contains("terms"));
    }
}
