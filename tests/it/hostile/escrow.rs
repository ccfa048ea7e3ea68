//! An escrowed value that cannot be opened names the way out: the identity variable,
//! `escrow.recipient`, which of the two is wrong, and what to check.

use secrecy::{ExposeSecret, SecretString};
use tokenops::ops::apply::escrow::{Escrow, EscrowError, generate_identity};

const ENV: &str = "TOKENOPS_ESCROW_IDENTITY";

fn sealed_to(recipient: &str) -> String {
    Escrow::new(recipient, None, ENV)
        .unwrap()
        .seal(&SecretString::from("glpat-EscrowedValue0123456789"))
        .unwrap()
}

#[test]
fn a_wrong_identity_names_the_variable_and_the_recipient() {
    let (_, recipient) = generate_identity();
    let (other, other_recipient) = generate_identity();
    let armored = sealed_to(&recipient);
    let escrow = Escrow::new(&recipient, Some(other), ENV).unwrap();
    let err = escrow.open(&armored).unwrap_err();
    assert!(matches!(err, EscrowError::WrongKey { .. }), "{err}");
    let text = err.to_string();
    for needed in [
        ENV,
        "escrow.recipient",
        "No matching keys found",
        "age-keygen -y",
    ] {
        assert!(text.contains(needed), "{needed}: {text}");
    }
    assert!(
        text.contains(&other_recipient),
        "says whose key it is: {text}"
    );
    assert!(!text.contains("AGE-SECRET-KEY"), "{text}");
}

#[test]
fn a_recipient_changed_since_the_rotation_began_is_told_apart() {
    let (_, earlier) = generate_identity();
    let (current_identity, current) = generate_identity();
    let armored = sealed_to(&earlier);
    let escrow = Escrow::new(&current, Some(current_identity), ENV).unwrap();
    let text = escrow.open(&armored).unwrap_err().to_string();
    assert!(text.contains("matches escrow.recipient"), "{text}");
    assert!(text.contains("earlier"), "{text}");
}

#[test]
fn a_cut_off_escrow_says_the_ledger_is_damaged_not_the_key() {
    let (identity, recipient) = generate_identity();
    let armored = sealed_to(&recipient);
    let escrow = Escrow::new(&recipient, Some(identity.clone()), ENV).unwrap();
    assert_eq!(
        escrow.open(&armored).unwrap().expose_secret(),
        "glpat-EscrowedValue0123456789"
    );
    let lines: Vec<&str> = armored.lines().collect();
    let cut = [&lines[..lines.len() / 2], &lines[lines.len() - 1..]]
        .concat()
        .join("\n");
    for damaged in [cut.as_str(), &armored[..armored.len() / 2], "garbage"] {
        let err = escrow.open(damaged).unwrap_err();
        assert!(matches!(err, EscrowError::Damaged { .. }), "{err}");
        let text = err.to_string();
        for needed in [ENV, "escrow.recipient", "restore", "damaged or cut short"] {
            assert!(text.contains(needed), "{needed}: {text}");
        }
    }
    assert!(!identity.expose_secret().is_empty());
}
