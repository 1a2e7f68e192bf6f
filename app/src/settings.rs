//! The user's preferences: one record in the session's store (sealed by the vault in a kept
//! profile, in memory for a temporary session), read once when the session opens.

use serde::{Deserialize, Serialize};

/// What a notification may say about a new message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "&'static str")]
pub enum NotificationMode {
    /// No notifications.
    #[default]
    Off,
    /// "New message", nothing about who or what.
    Private,
    /// The contact's name and the message text.
    Preview,
}

impl Choice for NotificationMode {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (Self::Off, "off", "Off"),
        (Self::Private, "private", "On, without names or text"),
        (
            Self::Preview,
            "preview",
            "On, with name and message preview",
        ),
    ];
}

/// The colour theme: the system's, or one the user picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "&'static str")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// The page's `data-theme` for this choice (`None`: the system's).
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Self::System => None,
            Self::Light => Some("light"),
            Self::Dark => Some("dark"),
        }
    }
}

impl Choice for Theme {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (Self::System, "system", "As the system"),
        (Self::Light, "light", "Light"),
        (Self::Dark, "dark", "Dark"),
    ];
}

/// A preference picked from a list (a `<select>` in settings): each value with its key (in the
/// form, and in the stored settings) and its label.
pub trait Choice: Copy + PartialEq + Default + 'static {
    const ALL: &'static [(Self, &'static str, &'static str)];

    /// The value used in the settings form.
    fn key(self) -> &'static str {
        Self::ALL.iter().find(|c| c.0 == self).map_or("", |c| c.1)
    }

    /// The value of a key; an unknown key gives the default. Case is ignored: records written
    /// before the keys were stored hold the variant's name (`"Private"`).
    fn from_key(key: &str) -> Self {
        Self::ALL
            .iter()
            .find(|c| c.1.eq_ignore_ascii_case(key))
            .map(|c| c.0)
            .unwrap_or_default()
    }
}

// Stored as their keys (serde `from`/`into`): one string reader for every choice, not a
// derived enum reader each.
impl From<String> for NotificationMode {
    fn from(key: String) -> Self {
        Self::from_key(&key)
    }
}

impl From<NotificationMode> for &'static str {
    fn from(mode: NotificationMode) -> Self {
        mode.key()
    }
}

impl From<String> for Theme {
    fn from(key: String) -> Self {
        Self::from_key(&key)
    }
}

impl From<Theme> for &'static str {
    fn from(theme: Theme) -> Self {
        theme.key()
    }
}

/// Auto-lock delay until the user picks another.
pub const DEFAULT_AUTOLOCK_MINUTES: u32 = 15;

/// The preferences of one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Minutes of inactivity after which a kept profile locks (`None`: never).
    pub autolock_minutes: Option<u32>,
    #[serde(default)]
    pub notifications: NotificationMode,
    /// Added after the first release: records written before it read as `System`.
    #[serde(default)]
    pub theme: Theme,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            autolock_minutes: Some(DEFAULT_AUTOLOCK_MINUTES),
            notifications: NotificationMode::Off,
            theme: Theme::System,
        }
    }
}

impl Settings {
    /// The stored form; an unreadable record gives the defaults (preferences are not worth
    /// refusing to open a profile over).
    pub fn from_bytes(bytes: Option<&[u8]>) -> Self {
        bytes
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_fall_back_to_defaults() {
        let s = Settings {
            autolock_minutes: None,
            notifications: NotificationMode::Preview,
            theme: Theme::Dark,
        };
        assert_eq!(Settings::from_bytes(Some(&s.to_bytes())), s);
        assert_eq!(Settings::from_bytes(None), Settings::default());
        assert_eq!(Settings::from_bytes(Some(b"{oops")), Settings::default());
        for &(mode, _, _) in NotificationMode::ALL {
            assert_eq!(NotificationMode::from_key(mode.key()), mode);
        }
        for &(theme, _, _) in Theme::ALL {
            assert_eq!(Theme::from_key(theme.key()), theme);
        }
        assert_eq!(NotificationMode::from_key("bogus"), NotificationMode::Off);
        assert_eq!(Theme::from_key("bogus"), Theme::System);
    }

    /// Settings written before the theme existed open with every choice kept.
    #[test]
    fn settings_from_before_the_theme_keep_their_values() {
        let old = br#"{"autolock_minutes":5,"notifications":"Private"}"#;
        assert_eq!(
            Settings::from_bytes(Some(old)),
            Settings {
                autolock_minutes: Some(5),
                notifications: NotificationMode::Private,
                theme: Theme::System,
            }
        );
    }
}
