//! Operating-system package databases: dpkg and apk. (rpm is not implemented yet.)
//!
//! Each is parsed natively from the bytes the image stage retained; nothing shells out to the
//! distro's tools. OS packages carry their owned files, which the
//! [`ownership`](super::ownership) rule uses.

pub mod apk;
pub mod dpkg;
