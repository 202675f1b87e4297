//! [`ImageError`]: everything that can go wrong while resolving, fetching or reading an image.
//!
//! Every variant carries its context as fields (path, layer digest, entry offset, registry
//! host), keeps causes in `#[source]`, has a stable `tollgate::image::*` code and, where a flag
//! fixes it, a `help` naming that flag. Credentials never appear in any message.

use std::path::PathBuf;

/// Errors while resolving or reading an image.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ImageError {
    /// The reference string could not be parsed.
    #[error("invalid image reference `{input}`: {reason}")]
    #[diagnostic(
        code("tollgate::image::invalid-reference"),
        help(
            "use `registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`, `dir:PATH`, or an existing path"
        )
    )]
    InvalidReference {
        /// The input as given.
        input: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A path named by the reference does not exist or cannot be read.
    #[error("cannot read `{path}`")]
    #[diagnostic(code("tollgate::image::io"))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// An existing path whose content is not a known image source.
    #[error("`{path}` is not an image: {reason}")]
    #[diagnostic(
        code("tollgate::image::unknown-format"),
        help(
            "name the source explicitly: `docker-archive:`, `oci-archive:`, `oci-dir:`, `dir:` or `sbom:`"
        )
    )]
    UnknownFormat {
        /// The path.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },

    /// `load` was called on an SBOM reference.
    #[error("`{input}` is an SBOM, not an image")]
    #[diagnostic(
        code("tollgate::image::sbom-not-an-image"),
        help(
            "SBOMs are read by the catalog stage (`tollgate scan sbom:PATH`); `image` commands need an image"
        )
    )]
    SbomNotAnImage {
        /// The reference as given.
        input: String,
    },

    /// A JSON document of the image (manifest, index, config) is malformed.
    #[error("malformed {what} in `{location}`")]
    #[diagnostic(code("tollgate::image::bad-json"))]
    BadJson {
        /// `manifest`, `index`, `config`, …
        what: &'static str,
        /// Where it was read from (file, archive member or registry URL).
        location: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },

    /// The image metadata is well-formed JSON but inconsistent or unsupported.
    #[error("invalid image in `{location}`: {reason}")]
    #[diagnostic(code("tollgate::image::invalid-image"))]
    InvalidImage {
        /// Where.
        location: String,
        /// What is wrong.
        reason: String,
    },

    /// A source holds several images and the reference did not say which.
    #[error("`{location}` holds {count} images; pick one")]
    #[diagnostic(
        code("tollgate::image::ambiguous-image"),
        help("append `:{example}` to the reference; available: {available}")
    )]
    AmbiguousImage {
        /// The archive or layout.
        location: String,
        /// How many candidates.
        count: usize,
        /// A candidate name to use in the hint.
        example: String,
        /// All candidates, comma-separated.
        available: String,
    },

    /// The requested tag / ref name / index is not in the source.
    #[error("`{location}` has no image `{wanted}`")]
    #[diagnostic(
        code("tollgate::image::image-not-found"),
        help("available: {available}")
    )]
    ImageNotFound {
        /// The archive, layout or registry.
        location: String,
        /// What was asked for.
        wanted: String,
        /// What exists.
        available: String,
    },

    /// No manifest of an index matches the requested platform.
    #[error("`{location}` has no image for platform `{wanted}`")]
    #[diagnostic(
        code("tollgate::image::platform-not-found"),
        help(
            "pick one with `--platform`, or scan every platform with `--all-platforms`; available: {available}"
        )
    )]
    PlatformNotFound {
        /// The index location.
        location: String,
        /// The requested platform.
        wanted: String,
        /// The platforms in the index.
        available: String,
    },

    /// A blob named by a manifest is not in the source.
    #[error("blob `{digest}` is missing from `{location}`")]
    #[diagnostic(
        code("tollgate::image::missing-blob"),
        help("the image is incomplete; re-export or re-pull it")
    )]
    MissingBlob {
        /// The blob digest or archive member.
        digest: String,
        /// The source.
        location: String,
    },

    /// A blob's content does not match its digest.
    #[error("digest mismatch for blob `{expected}`: content hashes to `{actual}`")]
    #[diagnostic(
        code("tollgate::image::digest-mismatch"),
        help("the blob was corrupted or tampered with in `{location}`; nothing from it was used")
    )]
    DigestMismatch {
        /// The digest the manifest names.
        expected: String,
        /// What the content hashes to.
        actual: String,
        /// Where the blob came from.
        location: String,
    },

    /// A digest string is malformed or uses an unsupported algorithm.
    #[error("unsupported digest `{digest}` in `{location}`")]
    #[diagnostic(
        code("tollgate::image::bad-digest"),
        help("only `sha256:<64 hex>` digests are supported")
    )]
    BadDigest {
        /// The digest.
        digest: String,
        /// Where it was found.
        location: String,
    },

    /// A layer uses a compression this reader does not support.
    #[error("layer `{layer}` uses unsupported compression `{compression}`")]
    #[diagnostic(
        code("tollgate::image::unsupported-compression"),
        help("supported: uncompressed tar, gzip, zstd")
    )]
    UnsupportedCompression {
        /// The layer digest.
        layer: String,
        /// The detected format.
        compression: &'static str,
    },

    /// A layer stream ended early or is not a valid tar.
    #[error("layer `{layer}` is corrupt or truncated (near byte {offset} of the tar stream)")]
    #[diagnostic(
        code("tollgate::image::corrupt-layer"),
        help("the blob is damaged; re-export or re-pull the image")
    )]
    CorruptLayer {
        /// The layer digest.
        layer: String,
        /// Approximate offset in the uncompressed tar stream.
        offset: u64,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// Decompressed data exceeded the configured cap (a decompression bomb, or a huge image).
    #[error("image decompresses to more than {limit} bytes (stopped in layer `{layer}`)")]
    #[diagnostic(
        code("tollgate::image::decompression-limit"),
        help(
            "raise the cap with `--max-image-bytes` (env `TOLLGATE_MAX_IMAGE_BYTES`) if the image is genuine"
        )
    )]
    DecompressionLimit {
        /// The layer being read when the cap was hit.
        layer: String,
        /// The cap in bytes.
        limit: u64,
    },

    /// A tar entry's path climbs out of the image root.
    #[error("layer `{layer}` has an entry escaping the image root: `{path}`")]
    #[diagnostic(
        code("tollgate::image::path-escape"),
        help("the layer is hostile or broken; nothing was written to disk")
    )]
    PathEscape {
        /// The layer digest.
        layer: String,
        /// The entry path (or hard-link target) as written.
        path: String,
    },

    /// The registry refused the credentials (or wants some).
    #[error("registry `{registry}` denied access to `{reference}` (HTTP 401/403)")]
    #[diagnostic(
        code("tollgate::image::unauthorized"),
        help(
            "log in with `--username` + `--password-stdin`, env `TOLLGATE_REGISTRY_USERNAME`/`TOLLGATE_REGISTRY_PASSWORD`, or a docker `config.json` entry for `{registry}`"
        )
    )]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The reference.
        reference: String,
        /// The registry's message.
        message: String,
    },

    /// The registry has no such repository, tag or manifest.
    #[error("`{reference}` was not found in registry `{registry}` (HTTP 404)")]
    #[diagnostic(
        code("tollgate::image::not-found"),
        help("check the repository name and tag")
    )]
    NotFound {
        /// The registry host.
        registry: String,
        /// The reference.
        reference: String,
    },

    /// Any other registry failure (network, TLS, protocol, 5xx after retries).
    #[error("registry `{registry}` failed for `{reference}`: {message}")]
    #[diagnostic(
        code("tollgate::image::registry"),
        help(
            "for a plain-HTTP registry use `--insecure-registry {registry}`; for a private CA use `--ca-cert FILE`"
        )
    )]
    Registry {
        /// The registry host.
        registry: String,
        /// The reference.
        reference: String,
        /// What failed.
        message: String,
    },

    /// Credentials could not be read from a docker/podman config or helper.
    #[error("cannot read credentials for `{registry}`: {message}")]
    #[diagnostic(
        code("tollgate::image::credentials"),
        help(
            "fix the docker `config.json` (env `DOCKER_CONFIG`) or podman `REGISTRY_AUTH_FILE`, or pass `--username`"
        )
    )]
    Credentials {
        /// The registry host.
        registry: String,
        /// What failed.
        message: String,
    },

    /// A CA certificate file given with `--ca-cert` is unreadable or not PEM/DER.
    #[error("bad CA certificate `{path}`: {message}")]
    #[diagnostic(
        code("tollgate::image::bad-ca-cert"),
        help("`--ca-cert` takes a PEM or DER certificate file")
    )]
    BadCaCert {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },

    /// The layer cache directory cannot be used.
    #[error("layer cache `{path}` is not usable")]
    #[diagnostic(
        code("tollgate::image::cache"),
        help("point `--cache-dir` (env `TOLLGATE_CACHE_DIR`) at a writable directory")
    )]
    Cache {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// A worker thread failed unexpectedly.
    #[error("internal error while reading the image: {0}")]
    #[diagnostic(code("tollgate::image::internal"))]
    Internal(String),
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }
}
