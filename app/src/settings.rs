//! The user's preferences: one record in the session's store (sealed by the vault in a kept
//! profile, in memory for a temporary session), read once when the session opens.

use serde::{Deserialize, Serialize};

/// What a notification may say about a new message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NotificationMode {
    /// No notifications.
    #[default]
    Off,
    /// "New message", nothing about who or what.
    Private,
    /// The contact's name and the message text.
    Preview,
}

impl NotificationMode {
    pub const ALL: [(Self, &'static str); 3] = [
        (Self::Off, "Off"),
        (Self::Private, "On, without names or text"),
        (Self::Preview, "On, with name and message preview"),
    ];

    /// The value used in the settings form.
    pub fn key(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Private => "private",
            Self::Preview => "preview",
        }
    }

    pub fn from_key(key: &str) -> Self {
        Self::ALL
            .iter()
            .map(|(m, _)| *m)
            .find(|m| m.key() == key)
            .unwrap_or_default()
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            autolock_minutes: Some(DEFAULT_AUTOLOCK_MINUTES),
            notifications: NotificationMode::Off,
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
        };
        assert_eq!(Settings::from_bytes(Some(&s.to_bytes())), s);
        assert_eq!(Settings::from_bytes(None), Settings::default());
        assert_eq!(Settings::from_bytes(Some(b"{oops")), Settings::default());
        for (mode, _) in NotificationMode::ALL {
            assert_eq!(NotificationMode::from_key(mode.key()), mode);
        }
        assert_eq!(NotificationMode::from_key("bogus"), NotificationMode::Off);
    }
}
