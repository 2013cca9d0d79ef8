//! The symbolic model specification produced by expanding a formula.

use super::numexpr::NumExpr;

/// One factor of an interaction term.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// A bare column; numeric or categorical, decided later by the data.
    Variable(String),
    /// A numeric function of columns such as `log(x)`, `abs2(age)` or
    /// `I(age^2)`; `label` is the source text with whitespace removed.
    Function {
        /// What to compute.
        expr: NumExpr,
        /// How the term is named, e.g. `"I(age^2)"`.
        label: String,
    },
    /// `fulldummy(f)` inside a random-effects term: one indicator column for
    /// every level of `f`, rather than contrasts against a reference level.
    FullDummy(String),
}

/// Whether `name` can be written in a formula without backticks.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let second = name.chars().nth(1);
    let starts_ok = first.is_alphabetic()
        || first == '_'
        || (first == '.' && second.is_some_and(|c| !c.is_ascii_digit()));
    starts_ok && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// `name`, backtick-quoted when it is not a plain identifier.
fn display_name(name: &str) -> String {
    if is_plain_name(name) {
        name.to_string()
    } else {
        format!("`{name}`")
    }
}

impl Atom {
    /// How the atom is written in labels: `x`, `log(x)`, `fulldummy(f)`.
    pub fn label(&self) -> String {
        match self {
            Atom::Variable(name) => display_name(name),
            Atom::Function { label, .. } => label.clone(),
            Atom::FullDummy(name) => format!("fulldummy({})", display_name(name)),
        }
    }

    /// The columns the atom reads, in order of first use.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Atom::Variable(name) | Atom::FullDummy(name) => vec![name.clone()],
            Atom::Function { expr, .. } => expr.columns(),
        }
    }
}

/// An interaction of atoms (a main effect when there is one atom).
///
/// Equality is set equality of the atoms, as in R where `a:b` and `b:a` are
/// the same term.
#[derive(Debug, Clone)]
pub struct Term {
    /// The interacting factors, without repeats, in the order written.
    pub atoms: Vec<Atom>,
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        // Atoms within a term are unique, so equal lengths plus inclusion
        // one way is set equality.
        self.atoms.len() == other.atoms.len() && self.atoms.iter().all(|a| other.atoms.contains(a))
    }
}

impl Term {
    /// A term from its atoms (repeats are dropped).
    pub fn new(atoms: Vec<Atom>) -> Self {
        let mut unique: Vec<Atom> = Vec::with_capacity(atoms.len());
        for atom in atoms {
            if !unique.contains(&atom) {
                unique.push(atom);
            }
        }
        Term { atoms: unique }
    }

    /// Number of interacting atoms (1 for a main effect).
    pub fn degree(&self) -> usize {
        self.atoms.len()
    }

    /// Atom labels joined with `" & "`, e.g. `"service & dept"`.
    pub fn label(&self) -> String {
        let labels: Vec<String> = self.atoms.iter().map(Atom::label).collect();
        labels.join(" & ")
    }

    /// The columns the term reads, unique, in order of first use.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        for atom in &self.atoms {
            push_unique(&mut out, atom.columns());
        }
        out
    }
}

/// An intercept flag and a list of terms: a (sub-)formula's right-hand side.
#[derive(Debug, Clone, PartialEq)]
pub struct TermsSpec {
    /// Whether the model matrix gets a column of ones.
    pub intercept: bool,
    /// The terms, unique, ordered stably by degree.
    pub terms: Vec<Term>,
}

impl TermsSpec {
    /// The right-hand side written out: `"1 + Days"`, `"0 + x"`, `"1"`, `"0"`.
    pub fn label(&self) -> String {
        let mut parts = vec![if self.intercept { "1" } else { "0" }.to_string()];
        parts.extend(self.terms.iter().map(Term::label));
        parts.join(" + ")
    }
}

/// One random-effects term `(effects | grouping)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSpec {
    /// The model matrix of the term, with its own intercept.
    pub effects: TermsSpec,
    /// The grouping factor; several names mean their interaction (`g & h`).
    pub grouping: Vec<String>,
    /// Whether the covariance is diagonal (`zerocorr(...)`).
    pub zerocorr: bool,
    /// Normalised text, e.g. `"(1 + Days | Subject)"` or
    /// `"zerocorr(1 + Days | Subject)"`.
    pub label: String,
}

impl RandomSpec {
    /// Builds the term and its normalised label.
    pub fn new(effects: TermsSpec, grouping: Vec<String>, zerocorr: bool) -> Self {
        let groups: Vec<String> = grouping.iter().map(|g| display_name(g)).collect();
        let body = format!("({} | {})", effects.label(), groups.join(" & "));
        let label = if zerocorr {
            format!("zerocorr{body}")
        } else {
            body
        };
        RandomSpec {
            effects,
            grouping,
            zerocorr,
            label,
        }
    }
}

/// `cbind(successes, failures)`: lme4's two-column binomial response. The
/// response is the proportion successes / (successes + failures), and the
/// number of trials successes + failures is the prior weight of the row.
#[derive(Debug, Clone, PartialEq)]
pub struct CbindSpec {
    /// Numbers of successes (an arithmetic expression of numeric columns).
    pub successes: NumExpr,
    /// Numbers of failures (an arithmetic expression of numeric columns).
    pub failures: NumExpr,
    /// Source text of the first argument, whitespace removed.
    pub successes_label: String,
    /// Source text of the second argument, whitespace removed.
    pub failures_label: String,
    /// Source text of the call, whitespace removed, e.g.
    /// `"cbind(incidence,size-incidence)"`.
    pub label: String,
}

/// The left-hand side of a formula.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseSpec {
    /// One column (numeric, or a factor for Bernoulli models), or an
    /// arithmetic expression of numeric columns as R evaluates it: `log(y)`,
    /// `incidence / size`, `log(y) - 1`.
    Single(Atom),
    /// `cbind(successes, failures)`, for binomial models only.
    Cbind(CbindSpec),
}

impl ResponseSpec {
    /// How the response is written in labels: `y`, `log(y)`, `incidence/size`,
    /// `cbind(incidence,size-incidence)`.
    pub fn label(&self) -> String {
        match self {
            ResponseSpec::Single(atom) => atom.label(),
            ResponseSpec::Cbind(c) => c.label.clone(),
        }
    }

    /// The columns the response reads, unique, in order of first use.
    pub fn columns(&self) -> Vec<String> {
        match self {
            ResponseSpec::Single(atom) => atom.columns(),
            ResponseSpec::Cbind(c) => {
                let mut out = c.successes.columns();
                push_unique(&mut out, c.failures.columns());
                out
            }
        }
    }
}

/// A fully expanded model formula, not yet bound to data.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The response: a column, an arithmetic expression of columns
    /// (`log(y)`, `incidence / size`) or `cbind(successes, failures)`.
    pub response: ResponseSpec,
    /// The fixed-effects part.
    pub fixed: TermsSpec,
    /// Random-effects terms in the order written (after expanding `||`
    /// and nesting `/`).
    pub random: Vec<RandomSpec>,
    /// Offsets, added to the linear predictor with coefficient 1.
    pub offsets: Vec<NumExpr>,
    /// The formula text as given.
    pub source: String,
}

fn push_unique(out: &mut Vec<String>, names: Vec<String>) {
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
}

impl ModelSpec {
    /// Every column the model reads, unique, in order of first appearance in
    /// the spec: response, fixed terms, offsets, then each random term's
    /// effects and grouping.
    pub fn variables(&self) -> Vec<String> {
        let mut out = self.response.columns();
        for term in &self.fixed.terms {
            push_unique(&mut out, term.columns());
        }
        for offset in &self.offsets {
            push_unique(&mut out, offset.columns());
        }
        for re in &self.random {
            for term in &re.effects.terms {
                push_unique(&mut out, term.columns());
            }
            push_unique(&mut out, re.grouping.clone());
        }
        out
    }

    /// The columns used as grouping factors, unique, in order of appearance.
    pub fn grouping_variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        for re in &self.random {
            push_unique(&mut out, re.grouping.clone());
        }
        out
    }
}
