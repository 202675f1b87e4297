//! Operating-system package databases: dpkg, apk and rpm (SQLite, Berkeley DB and NDB).
//!
//! Each is parsed natively from the bytes the image stage retained; nothing shells out to the
//! distro's tools. OS packages carry their owned files, which the
//! [`ownership`](super::ownership) rule uses.

pub mod apk;
pub mod dpkg;
pub mod rpm;
