//! The declarative description of messages: `wire_messages!` turns each BOLT message
//! definition (type, name, fields in wire order, known extension TLVs) into its struct, its
//! [`WireMessage`](crate::WireMessage) codec and, under `cfg(test)`, a proptest strategy.
//!
//! Every message gets an extension TLV stream (BOLT 1 "Lightning Message Format"): the bytes
//! after the known fields must be a valid stream; its known records become fields, unknown
//! odd records land in `unknown_tlvs` and are re-encoded in place (except for the BOLT 1
//! setup and control messages, which validate and drop them).

/// Declares messages. Syntax, per message:
///
/// ```text
/// /// docs
/// message Name = TYPE "bolt_name" [ignore_unknown_tlvs] {
///     /// docs
///     field: Type,          // body fields in wire order; Type: Codec
/// } tlvs {                  // optional
///     /// docs
///     1 => record: Option<T>,  // T: TlvValue; or `bool` for an empty flag record
/// }
/// ```
///
/// The struct gets `unknown_tlvs: Vec<TlvRecord>` holding the unknown odd extension
/// records, unless `ignore_unknown_tlvs` is given: then they are still validated but
/// dropped (BOLT 1: a receiver MAY ignore the extension).
macro_rules! wire_messages {
    ($(
        $(#[$meta:meta])*
        message $name:ident = $msg_type:literal $wire_name:literal $($marker:ident)? {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)?
        }
        $( tlvs {
            $( $(#[$tmeta:meta])* $tlv_ty:literal => $tfield:ident : $tfty:ty ),* $(,)?
        } )?
    )*) => {$(
        $crate::macros::wire_message! {
            @mode [$($marker)?]
            $(#[$meta])*
            $name = $msg_type $wire_name {
                $( $(#[$fmeta])* $field : $fty ),*
            } [
                $($( $(#[$tmeta])* $tlv_ty => $tfield : $tfty ),*)?
            ]
        }
    )*};
}
pub(crate) use wire_messages;

/// One message of [`wire_messages!`]; `@gen` takes the name of the unknown-records field,
/// or nothing.
macro_rules! wire_message {
    (@mode [] $($rest:tt)*) => {
        $crate::macros::wire_message! { @gen (unknown_tlvs) $($rest)* }
    };
    (@mode [ignore_unknown_tlvs] $($rest:tt)*) => {
        $crate::macros::wire_message! { @gen () $($rest)* }
    };
    (
        @gen ($($unknown:ident)?)
        $(#[$meta:meta])*
        $name:ident = $msg_type:literal $wire_name:literal {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),*
        } [
            $( $(#[$tmeta:meta])* $tlv_ty:literal => $tfield:ident : $tfty:ty ),*
        ]
    ) => {
        $(#[$meta])*
        #[doc = concat!("\n\nWire type ", stringify!($msg_type), " (`", $wire_name, "`).")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $fty, )*
            $( $(#[$tmeta])* pub $tfield: $tfty, )*
            $(
                /// Unknown odd records of the message's extension TLV stream (BOLT 1), in
                /// type order; re-encoded as received.
                pub $unknown: ::std::vec::Vec<$crate::tlv::TlvRecord>,
            )?
        }

        impl $name {
            /// The message type.
            pub const TYPE: u16 = $msg_type;
            /// The message name, as the BOLTs spell it.
            pub const NAME: &'static str = $wire_name;
        }

        impl $crate::message::WireMessage for $name {
            const TYPE: u16 = $msg_type;
            const NAME: &'static str = $wire_name;

            fn encode_payload(&self, w: &mut $crate::primitives::Writer) {
                $( $crate::primitives::Codec::encode(&self.$field, w); )*
                // Without an unknown-records field there is nothing to merge.
                let _records: &[$crate::tlv::TlvRecord] = &[];
                $( let _records: &[$crate::tlv::TlvRecord] = &self.$unknown; )?
                #[allow(unused_mut)]
                let mut unknown = _records.iter().peekable();
                $(
                    $crate::tlv::write_unknown_before(&mut unknown, $tlv_ty, w);
                    <$tfty as $crate::tlv::TlvField>::encode_record(&self.$tfield, $tlv_ty, w);
                )*
                for rec in unknown {
                    rec.encode(w);
                }
            }

            fn decode_payload(
                payload: &[u8],
            ) -> ::core::result::Result<Self, $crate::error::WireError> {
                let mut r = $crate::primitives::Reader::new(payload);
                $( let $field = <$fty as $crate::primitives::Codec>::decode(&mut r)?; )*
                $( let mut $tfield: $tfty = ::core::default::Default::default(); )*
                let _unknown_records = $crate::tlv::decode_stream_with(r.rest(), |ty, value| {
                    match ty {
                        $( $tlv_ty => Some(
                            <$tfty as $crate::tlv::TlvField>::decode_record(value)
                                .map(|v| $tfield = v)
                        ), )*
                        _ => {
                            let _ = value;
                            None
                        }
                    }
                })?;
                Ok($name {
                    $( $field, )*
                    $( $tfield, )*
                    $( $unknown: _unknown_records, )?
                })
            }
        }

        #[cfg(test)]
        impl $crate::arbitrary::WireArbitrary for $name {
            fn strategy() -> ::proptest::strategy::BoxedStrategy<Self> {
                use ::proptest::strategy::Strategy;
                let known: &[u64] = &[$($tlv_ty),*];
                (
                    $crate::macros::nested_strategy!($($fty,)* $($tfty,)*),
                    $crate::arbitrary::unknown_tlvs(known),
                )
                    .prop_map(|(
                        $crate::macros::nested_pattern!($($field,)* $($tfield,)*),
                        _unknown_records,
                    )| $name {
                        $( $field, )*
                        $( $tfield, )*
                        $( $unknown: _unknown_records, )?
                    })
                    .boxed()
            }
        }
    };
}
pub(crate) use wire_message;

/// `(S1, (S2, (... Just(()))))` for field types `T1, T2, ...`: nested pairs avoid proptest's
/// 12-element tuple limit.
#[cfg(test)]
macro_rules! nested_strategy {
    () => { ::proptest::strategy::Just(()) };
    ($head:ty, $($tail:ty,)*) => {
        (
            <$head as $crate::arbitrary::WireArbitrary>::strategy(),
            $crate::macros::nested_strategy!($($tail,)*),
        )
    };
}
#[cfg(test)]
pub(crate) use nested_strategy;

/// The pattern matching [`nested_strategy!`]'s values.
#[cfg(test)]
macro_rules! nested_pattern {
    () => { () };
    ($head:ident, $($tail:ident,)*) => {
        ($head, $crate::macros::nested_pattern!($($tail,)*))
    };
}
#[cfg(test)]
pub(crate) use nested_pattern;
