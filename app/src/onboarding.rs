//! The onboarding model: a new or restored identity and what the user has confirmed about it.
//! Plain Rust, no signals: pages wrap it in signals and call its methods.

use murmur_core::keys::mnemonic;
use murmur_core::{Identity, MnemonicError, Seed};

/// Which two words the user must type back to prove the phrase was written down (1-based).
pub const CONFIRM_POSITIONS: [usize; 2] = [3, 10];

/// A freshly created account waiting for its recovery phrase to be confirmed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub identity: Identity,
}

impl NewAccount {
    pub fn generate() -> Self {
        Self {
            identity: Identity::generate(&mut crate::platform::rng()),
        }
    }

    /// The recovery phrase; fails only if the word list is not installed yet (the welcome
    /// screen installs it before this page opens).
    pub fn phrase(&self) -> Result<String, murmur_core::Error> {
        self.identity.seed().to_mnemonic()
    }

    /// True when `answers` are the words at [`CONFIRM_POSITIONS`] (prefix match, like restore).
    pub fn confirms(&self, answers: [&str; 2]) -> bool {
        let Ok(phrase) = self.phrase() else {
            return false;
        };
        let words: Vec<&str> = phrase.split(' ').collect();
        CONFIRM_POSITIONS.iter().zip(answers).all(|(&pos, answer)| {
            let expected = mnemonic::index_of(words[pos - 1]);
            expected.is_some() && mnemonic::index_of(answer.trim()) == expected
        })
    }
}

/// What the restore form knows about the phrase typed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhraseCheck {
    /// Nothing typed yet.
    Empty,
    /// Still typing: `words` so far, all of them known so far.
    Incomplete { words: usize },
    /// A word that is not in the list (1-based position).
    UnknownWord(usize),
    /// The phrase is complete but does not decode.
    Invalid(String),
    /// A valid phrase and the Session ID it restores.
    Valid { session_id: String },
}

/// Checks a phrase as the user types it: flags an unknown word as soon as it is finished.
pub fn check_phrase(text: &str) -> PhraseCheck {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return PhraseCheck::Empty;
    }
    // The last word may still be being typed unless followed by a space.
    let finished = if text.ends_with(char::is_whitespace) {
        words.len()
    } else {
        words.len() - 1
    };
    if let Some(pos) = words[..finished]
        .iter()
        .position(|w| mnemonic::index_of(w).is_none())
    {
        return PhraseCheck::UnknownWord(pos + 1);
    }
    if words.len() < 13 {
        return PhraseCheck::Incomplete { words: words.len() };
    }
    match Seed::from_mnemonic(text) {
        Ok(seed) => PhraseCheck::Valid {
            session_id: Identity::from_seed(seed).session_id().to_string(),
        },
        Err(murmur_core::Error::Mnemonic(MnemonicError::UnknownWord(pos))) => {
            PhraseCheck::UnknownWord(pos)
        }
        Err(e) => PhraseCheck::Invalid(e.to_string()),
    }
}

/// Shortest passphrase accepted for kept history.
pub const MIN_PASSPHRASE: usize = 8;

/// What is wrong with a new passphrase and its confirmation, if anything.
pub fn passphrase_problem(passphrase: &str, confirm: &str) -> Option<&'static str> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        Some("Use at least 8 characters.")
    } else if passphrase != confirm {
        Some("The two passphrases differ.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_a_phrase_is_checked_word_by_word() {
        assert_eq!(check_phrase(""), PhraseCheck::Empty);
        assert_eq!(check_phrase("abb"), PhraseCheck::Incomplete { words: 1 });
        assert_eq!(
            check_phrase("abbey qq"),
            PhraseCheck::Incomplete { words: 2 }
        );
        assert_eq!(check_phrase("abbey qqq "), PhraseCheck::UnknownWord(2));
        let all_abbey = ["abbey"; 13].join(" ");
        assert!(matches!(
            check_phrase(&all_abbey),
            PhraseCheck::Valid { .. }
        ));
        let bad = format!("{} amaze", ["abbey"; 12].join(" "));
        assert!(matches!(check_phrase(&bad), PhraseCheck::Invalid(_)));
        let fourteen = format!("{all_abbey} abbey");
        assert!(matches!(check_phrase(&fourteen), PhraseCheck::Invalid(_)));
    }

    #[test]
    fn confirmation_needs_the_right_words() {
        let account = NewAccount::generate();
        let phrase = account.phrase().unwrap();
        let words: Vec<&str> = phrase.split(' ').collect();
        assert!(account.confirms([words[2], words[9]]));
        assert!(!account.confirms([words[9], words[2]]) || words[2][..3] == words[9][..3]);
        assert!(!account.confirms(["", ""]));
    }

    #[test]
    fn passphrases_need_length_and_a_matching_confirmation() {
        assert!(passphrase_problem("short", "short").is_some());
        assert!(passphrase_problem("long enough", "long enougH").is_some());
        assert_eq!(passphrase_problem("long enough", "long enough"), None);
        // Counted in characters, not bytes.
        assert!(passphrase_problem("ééééééé", "ééééééé").is_some());
    }
}
