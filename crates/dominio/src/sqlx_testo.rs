//! States, domains and entity codes as database values (feature `sqlx`, turned on by the
//! store only): stored as text, read back through the same `parse` that guards every other
//! entry point, so a row with a value outside the type fails where it is read, and the layers
//! above receive the type, never a string to parse again.

macro_rules! come_testo {
    ($t:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $t
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $t
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.as_str().to_string(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $t
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(
                v: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <String as sqlx::Decode<'r, DB>>::decode(v)?;
                <$t>::parse(&s).map_err(|e| Box::new(e) as sqlx::error::BoxDynError)
            }
        }
    };
}

come_testo!(crate::StatoFlusso);
come_testo!(crate::DominioFlusso);
come_testo!(crate::CodiceEnte);
