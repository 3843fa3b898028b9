//! Why a presentation is refused: the codes of `Rejection`, in the order the checks run. They
//! are listed for verifiers in `docs/verifiers.md` (a test checks that each one is).

macro_rules! codes {
    ($( $code:ident ),* $(,)?) => {
        $( pub const $code: &str = stringify!($code); )*
        /// Every rejection code.
        pub const ALL: &[&str] = &[ $( $code ),* ];
    };
}

codes! {
    MALFORMED,
    ALG_NOT_ALLOWED,
    WRONG_TYP,
    UNTRUSTED_ISSUER,
    UNKNOWN_KID,
    BAD_SIGNATURE,
    NOT_YET_VALID,
    EXPIRED,
    UNKNOWN_VCT,
    STALE,
    DUPLICATE_DIGEST,
    MALFORMED_DISCLOSURE,
    DUPLICATE_DISCLOSURE,
    DISCLOSURE_NOT_IN_CREDENTIAL,
    CLAIM_CLASH,
    NOT_HOLDER_BOUND,
    KEY_BINDING_MISSING,
    KB_BAD_SIGNATURE,
    KB_SD_HASH_MISMATCH,
    KB_WRONG_AUD,
    KB_WRONG_NONCE,
    KB_STALE,
    STATUS_UNAVAILABLE,
    STATUS_LIST_EXPIRED,
    STATUS_LIST_INVALID,
    REVOKED,
}
