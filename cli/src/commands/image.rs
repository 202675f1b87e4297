//! `tollgate image inspect|files`: show an image's config, layers and squashed file list.

use clap::Subcommand;

use crate::Outcome;
use crate::args::GlobalArgs;

/// `tollgate image …`
#[derive(Debug, Subcommand)]
pub(crate) enum ImageCommand {
    /// Digest, platform, layers and config summary.
    Inspect {
        /// The image (`registry:REF`, `docker-archive:PATH`, `oci-dir:PATH`, `dir:PATH`, …).
        image: String,
    },
}

pub(crate) async fn run(cmd: ImageCommand, _global: &GlobalArgs) -> miette::Result<Outcome> {
    match cmd {
        ImageCommand::Inspect { image } => {
            Err(tollgate::image::ImageError::Unsupported(image).into())
        }
    }
}
