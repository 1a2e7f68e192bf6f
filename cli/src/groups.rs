//! `murmur group …`: groups v2 (SESSION-GROUPS.md) from the command line. The work is
//! `murmur_core::client::groups`; this parses, asks and prints.

use std::path::PathBuf;

use clap::Subcommand;
use murmur_core::SessionId;
use murmur_core::client::groups::{GroupNotifications, GroupStatus, GroupSummary};
use murmur_core::client::parse_recipient;
use murmur_core::groups::info::{Member, Pending};
use murmur_core::rpc::AccountId;
use serde_json::json;

use crate::commands::{
    Common, Failure, Result, client, home, printable, runtime, warn_about_network,
};

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group (you are its admin) and invite members.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// A member to invite (repeatable).
        #[arg(long = "member", value_name = "SESSION_ID")]
        members: Vec<String>,
        /// The group's picture (JPEG, PNG, GIF or WebP; its metadata is stripped).
        #[arg(long)]
        picture: Option<PathBuf>,
    },
    /// Invite members (admins), or send a failed invitation again.
    Invite {
        #[arg(long)]
        group: String,
        /// Let them read the messages the group's swarm still holds from before.
        #[arg(long)]
        with_history: bool,
        #[arg(required = true, value_name = "SESSION_ID")]
        members: Vec<String>,
    },
    /// Accept an invitation.
    Accept {
        #[arg(long)]
        group: String,
    },
    /// Decline an invitation (nothing of the group is kept).
    Decline {
        #[arg(long)]
        group: String,
    },
    /// Remove members (admins): they are revoked and a new key leaves them out.
    Remove {
        #[arg(long)]
        group: String,
        /// Also delete everything they wrote, from the group's swarm and the others' apps.
        #[arg(long)]
        delete_messages: bool,
        #[arg(required = true, value_name = "SESSION_ID")]
        members: Vec<String>,
    },
    /// Make a member an admin too (admins).
    Promote {
        #[arg(long)]
        group: String,
        #[arg(value_name = "SESSION_ID")]
        member: String,
    },
    /// Leave a group.
    Leave {
        #[arg(long)]
        group: String,
    },
    /// Rename a group (admins).
    Rename {
        #[arg(long)]
        group: String,
        name: String,
    },
    /// Change a group's description or disappearing timer (admins; --disappear 0 turns it off).
    Set {
        #[arg(long)]
        group: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, value_name = "SECONDS")]
        disappear: Option<u32>,
        /// A new picture (JPEG, PNG, GIF or WebP; its metadata is stripped).
        #[arg(long, conflicts_with = "remove_picture")]
        picture: Option<PathBuf>,
        #[arg(long)]
        remove_picture: bool,
    },
    /// Save a group's picture to OUT (nothing is written when it has none).
    Picture {
        #[arg(long)]
        group: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete a group for everyone (admins).
    Delete {
        #[arg(long)]
        group: String,
    },
    /// Silence a group on all of this account's devices: no notifications (`inbox --json`
    /// says `"notify": false`), or only for messages that mention you; `--for`: for a while.
    Mute {
        #[arg(long)]
        group: String,
        /// Only messages that mention you (`@` and your Session ID) notify.
        #[arg(long, conflicts_with = "seconds")]
        mentions: bool,
        /// Mute for this many seconds, then notify again.
        #[arg(long = "for", value_name = "SECONDS")]
        seconds: Option<u32>,
    },
    /// Undo `group mute`: every message notifies again.
    Unmute {
        #[arg(long)]
        group: String,
    },
    /// The groups this account is in or invited to.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A group's members and their states.
    Members {
        #[arg(long)]
        group: String,
        #[arg(long)]
        json: bool,
    },
}

/// A group ID (`03` and 64 hex digits), with a clear reason when it is not one.
pub fn parse_group(text: &str) -> Result<AccountId> {
    match AccountId::parse(text.trim()) {
        Ok(id) if id.prefix() == 0x03 => Ok(id),
        _ => Err(Failure::Input(
            "invalid group: a group ID is 03 followed by 64 hex digits".into(),
        )),
    }
}

fn parse_members(ids: &[String]) -> Result<Vec<SessionId>> {
    ids.iter()
        .map(|m| parse_recipient(m).map_err(Failure::from))
        .collect()
}

/// A member's state as the user reads it.
fn state(m: &Member) -> &'static str {
    if m.removed.is_some() {
        return "removed";
    }
    if m.admin {
        return match m.promotion {
            Some(Pending::Failed) => "admin (promotion failed)",
            Some(_) => "admin (promotion sent)",
            None => "admin",
        };
    }
    match m.invite {
        Some(Pending::Sent) => "invited",
        Some(Pending::Failed) => "invitation failed",
        Some(Pending::NotSent) => "invitation not sent",
        None => "joined",
    }
}

fn summary_json(g: &GroupSummary) -> serde_json::Value {
    json!({
        "group": g.id.to_hex(), "name": g.name, "status": g.status.as_str(), "admin": g.admin,
        "description": g.info.description, "members": g.members.len(),
        "disappear_s": g.info.disappear_s, "invited_by": g.invited_by.map(|s| s.to_string()),
        "generation": g.generation, "picture": g.info.picture.is_some(),
        "notifications": g.notifications.as_str(),
        "muted_until_s": (g.muted_until_s > 0).then_some(g.muted_until_s),
    })
}

pub fn run(common: &Common, command: GroupCommand) -> Result<()> {
    // Every ID is checked before the network is touched.
    let home = home(common);
    let identity = home.identity().map_err(Failure::Input)?;
    let own = identity.session_id();
    let client = client(common, &home, identity)?;
    let rt = runtime()?;
    let result = rt.block_on(async {
        match command {
            GroupCommand::Create {
                name,
                description,
                members,
                picture,
            } => {
                let members = parse_members(&members)?;
                if name.trim().is_empty() {
                    return Err(Failure::Input("a group needs a name".into()));
                }
                let picture = picture.as_deref().map(read_picture).transpose()?;
                let (id, failed) = client
                    .create_group(name.trim(), &description, &members)
                    .await?;
                println!("{}", id.to_hex());
                report_failed(&failed);
                if let Some(picture) = picture {
                    client.set_group_picture(&id, Some(&picture)).await?;
                }
            }
            GroupCommand::Invite {
                group,
                with_history,
                members,
            } => {
                let (group, members) = (parse_group(&group)?, parse_members(&members)?);
                let failed = client
                    .invite_to_group(&group, &members, with_history)
                    .await?;
                println!("invited {} member(s)", members.len() - failed.len());
                report_failed(&failed);
            }
            GroupCommand::Accept { group } => {
                client.accept_group(&parse_group(&group)?).await?;
                println!("joined");
            }
            GroupCommand::Decline { group } => {
                client.decline_group(&parse_group(&group)?).await?;
                println!("declined");
            }
            GroupCommand::Remove {
                group,
                delete_messages,
                members,
            } => {
                let (group, members) = (parse_group(&group)?, parse_members(&members)?);
                client
                    .remove_from_group(&group, &members, delete_messages)
                    .await?;
                println!(
                    "removed {} member(s); the group has a new key",
                    members.len()
                );
            }
            GroupCommand::Promote { group, member } => {
                let (group, member) = (parse_group(&group)?, parse_members(&[member])?[0]);
                client.promote_in_group(&group, &member).await?;
                println!("promoted");
            }
            GroupCommand::Leave { group } => {
                client.leave_group(&parse_group(&group)?).await?;
                println!("left");
            }
            GroupCommand::Rename { group, name } => {
                if name.trim().is_empty() {
                    return Err(Failure::Input("a group needs a name".into()));
                }
                client
                    .update_group_info(&parse_group(&group)?, Some(name.trim()), None, None)
                    .await?;
                println!("renamed");
            }
            GroupCommand::Set {
                group,
                description,
                disappear,
                picture,
                remove_picture,
            } => {
                if description.is_none() && disappear.is_none() && picture.is_none() && !remove_picture
                {
                    return Err(Failure::Input(
                        "nothing to set: give --description, --disappear, --picture or --remove-picture"
                            .into(),
                    ));
                }
                let group = parse_group(&group)?;
                let picture = picture.as_deref().map(read_picture).transpose()?;
                if description.is_some() || disappear.is_some() {
                    client
                        .update_group_info(&group, None, description.as_deref(), disappear)
                        .await?;
                }
                if picture.is_some() || remove_picture {
                    client.set_group_picture(&group, picture.as_deref()).await?;
                }
                println!("updated");
            }
            GroupCommand::Picture { group, out } => {
                match client.group_picture(&parse_group(&group)?).await? {
                    Some(image) => {
                        std::fs::write(&out, image).map_err(|e| {
                            Failure::Input(format!("cannot write {}: {e}", out.display()))
                        })?;
                        println!("saved");
                    }
                    None => println!("the group has no picture"),
                }
            }
            GroupCommand::Delete { group } => {
                client.delete_group(&parse_group(&group)?).await?;
                println!("deleted for everyone");
            }
            GroupCommand::Mute {
                group,
                mentions,
                seconds,
            } => {
                let group = parse_group(&group)?;
                let (notifications, until) = match (mentions, seconds) {
                    (true, _) => (GroupNotifications::MentionsOnly, 0),
                    (false, None) => (GroupNotifications::Off, 0),
                    (false, Some(s)) => (
                        GroupNotifications::All,
                        (client.network_now_ms() / 1000) as i64 + i64::from(s),
                    ),
                };
                client
                    .set_group_notifications(&group, notifications, until)
                    .await?;
                println!("muted {}", group.to_hex());
            }
            GroupCommand::Unmute { group } => {
                let group = parse_group(&group)?;
                client
                    .set_group_notifications(&group, GroupNotifications::All, 0)
                    .await?;
                println!("unmuted {}", group.to_hex());
            }
            GroupCommand::List { json } => {
                // What the account's other devices did too; offline, what this home holds.
                if let Err(e) = client.sync_groups().await {
                    eprintln!("murmur: could not read the account's groups from the network ({e}); showing what this home holds");
                }
                let now_s = (client.network_now_ms() / 1000) as i64;
                for g in client.groups().await? {
                    if json {
                        println!("{}", summary_json(&g));
                    } else if g.status == GroupStatus::Invited {
                        // A request: who asked, and how to answer.
                        let from = g.invited_by.map(|s| s.to_string()).unwrap_or_default();
                        println!(
                            "{} {} (invitation from {from}: group accept or group decline)",
                            g.id.to_hex(),
                            printable(&g.name),
                        );
                    } else {
                        let quiet = match g.notifications {
                            _ if g.muted_until_s > now_s => ", muted for now",
                            GroupNotifications::Off => ", muted",
                            GroupNotifications::MentionsOnly => ", mentions only",
                            GroupNotifications::All => "",
                        };
                        println!(
                            "{} {} ({}{}{quiet}, {} member(s))",
                            g.id.to_hex(),
                            printable(&g.name),
                            g.status.as_str(),
                            if g.admin { ", admin" } else { "" },
                            g.members.len()
                        );
                    }
                }
            }
            GroupCommand::Members { group, json } => {
                let group = parse_group(&group)?;
                // Fresh from the swarm where we can read it, else what is held.
                let g = match client.group(&group).await? {
                    g if g.status == GroupStatus::Joined => {
                        client.refresh_group(&group).await?;
                        client.group(&group).await?
                    }
                    g => g,
                };
                for (id, m) in &g.members {
                    if json {
                        println!(
                            "{}",
                            json!({
                                "member": id.to_string(), "name": m.name, "state": state(m),
                                "admin": m.admin, "you": *id == own,
                            })
                        );
                    } else {
                        let you = if *id == own { " (you)" } else { "" };
                        println!("{id}{you} {}", state(m));
                    }
                }
            }
        }
        Ok(())
    });
    warn_about_network(&client);
    result
}

/// A picture from disk, its metadata stripped, or a clear error.
fn read_picture(path: &std::path::Path) -> Result<Vec<u8>> {
    murmur_cli::files::read_picture(path).map_err(Failure::Input)
}

fn report_failed(failed: &[SessionId]) {
    for f in failed {
        eprintln!("murmur: the invitation to {f} could not be sent; invite them again to resend");
    }
}
