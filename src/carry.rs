//! Moving function bodies between two versions of one file: the stubs of a file take the
//! bodies of the functions of the same name in another. It fills an exercise's stubs with a
//! reference's bodies (how the course learns which tests each step makes pass), and carries a
//! learner's bodies into a later stage's copy of the same code.

use std::collections::BTreeMap;

use crate::source::Parsed;

/// What [`fill`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filled {
    /// The new text.
    pub text: String,
    /// The stubs that took a body, in source order.
    pub filled: Vec<String>,
    /// The selected stubs that did not: no function of that name in the donor, or several.
    pub missing: Vec<String>,
}

/// Replaces the body of each stub of `target` that `select` picks with the body of the
/// function of the same name in `donor`. Stubs are functions whose body calls `todo!`.
pub fn fill(target: &str, donor: &str, select: impl Fn(&str) -> bool) -> Result<Filled, String> {
    let parsed_target = Parsed::new(target).map_err(|e| format!("the target: {e}"))?;
    let parsed_donor = Parsed::new(donor).map_err(|e| format!("the donor: {e}"))?;
    let mut bodies: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for function in parsed_donor.functions() {
        let range = parsed_donor.body_range(&function);
        bodies.entry(function.name).or_default().push(range);
    }
    let mut text = target.to_string();
    let mut filled = Vec::new();
    let mut missing = Vec::new();
    let stubs = parsed_target.stubs();
    for stub in stubs.iter().rev() {
        let name = &stub.function.name;
        if !select(name) {
            continue;
        }
        match bodies.get(name).map(Vec::as_slice) {
            Some(&[(start, end)]) => {
                let (target_start, target_end) = parsed_target.body_range(&stub.function);
                text.replace_range(target_start..target_end, &donor[start..end]);
                filled.push(name.clone());
            }
            _ => missing.push(name.clone()),
        }
    }
    filled.reverse();
    missing.reverse();
    Ok(Filled { text, filled, missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXERCISE: &str = "impl Log {
    fn last_index(&self) -> u64 {
        // TODO: count them.
        todo!(\"last_index (§5.3)\")
    }
    fn last_term(&self) -> u64 {
        todo!(\"last_term {}\", \"}\")
    }
    fn given(&self) {}
}
fn free() {
    todo!()
}
";

    const SOLUTION: &str = "impl Log {
    fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }
    fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| { e.term })
    }
    fn given(&self) {}
}
";

    #[test]
    fn selected_stubs_take_the_donors_bodies_and_the_rest_stay() {
        let filled = fill(EXERCISE, SOLUTION, |name| name != "Log::last_term").unwrap();
        assert_eq!(filled.filled, ["Log::last_index"]);
        assert_eq!(filled.missing, ["free"]);
        assert!(filled.text.contains("{\n        self.entries.len() as u64\n    }"));
        assert!(filled.text.contains("todo!(\"last_term {}\", \"}\")"));
        assert!(!filled.text.contains("last_index (§5.3)"));
    }

    #[test]
    fn filling_every_stub_gives_the_donor_where_it_has_them() {
        let filled = fill(EXERCISE, SOLUTION, |name| name.starts_with("Log::")).unwrap();
        assert_eq!(filled.text, format!("{SOLUTION}fn free() {{\n    todo!()\n}}\n"));
    }
}
