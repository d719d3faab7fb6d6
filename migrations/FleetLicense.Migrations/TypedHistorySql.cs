namespace FleetLicense.Migrations;

/// <summary>
/// The data migration of <c>machine_history</c> from display text to typed columns (docs/decisions/0005). Each
/// direction is one <c>ALTER TABLE</c> whose <c>USING</c> expressions read the row as it was, so PostgreSQL
/// rewrites the table (and rebuilds its indexes) once. Up reads the text back only where the typed values
/// format to exactly the same text (HistoryText in the web app); any other text stays in the legacy column,
/// so nothing is lost and the page shows what it showed before.
/// </summary>
public static class TypedHistorySql
{
    private static readonly string[] StatusNames = ["Unlicensed", "Licensed", "OOBGrace", "OOTGrace", "NonGenuineGrace", "Notification", "ExtendedGrace"];

    private static readonly string StatusCases = string.Concat(StatusNames.Select((name, code) => $"WHEN '{name} ({code})' THEN {code} "));

    // Readers of each text form, as temporary functions so the ALTER TABLE below stays readable; each returns
    // null for text that is not exactly what the app wrote.
    private static readonly string Readers = $$"""
        -- "Licensed (1)"; "7 (7)" for a code without a name.
        CREATE FUNCTION pg_temp.history_status(t text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE t WHEN 'Unknown (-1)' THEN -1 {{StatusCases}}
                ELSE CASE WHEN t ~ '^-?[0-9]{1,9} \(-?[0-9]{1,9}\)$' AND split_part(t, ' ', 1) = btrim(split_part(t, ' ', 2), '()')
                               AND split_part(t, ' ', 1)::integer NOT BETWEEN -1 AND 6 THEN split_part(t, ' ', 1)::integer END END
        $$;
        -- "Channel, Licensed (1)" and ", …ABCDE" when the product had a key: (channel, status, partial key).
        CREATE FUNCTION pg_temp.history_product(t text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
            SELECT ARRAY[m[1], m[2], m[4]] FROM regexp_match(t, '^([^,]{1,20}), ([^,]+)(, …([^,]{1,5}))?$') AS m
            WHERE pg_temp.history_status(m[2]) IS NOT NULL
        $$;
        -- "…ABCDE", or "…ABCDE #0123abcd" with the fingerprint's start ("?????": no partial key): (partial key, prefix).
        CREATE FUNCTION pg_temp.history_key(t text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
            SELECT ARRAY[CASE WHEN m[1] = '?????' AND m[3] IS NOT NULL THEN NULL ELSE m[1] END, m[3]]
            FROM regexp_match(t, '^…([^ ]{1,5})( #([^ ]{1,8}))?$') AS m WHERE m IS NOT NULL
        $$;
        """;

    private const string DropReaders = """
        DROP FUNCTION pg_temp.history_key(text);
        DROP FUNCTION pg_temp.history_product(text);
        DROP FUNCTION pg_temp.history_status(text);
        """;

    public static string Up { get; } = $"""
        {Readers}
        ALTER TABLE machine_history
            ALTER COLUMN product_kind TYPE character varying(20) USING {ProductKind},
            {Side("old")},
            {Side("new")};
        {DropReaders}
        """;

    public static string Down { get; } = $"""
        ALTER TABLE machine_history
            ALTER COLUMN legacy_old_value TYPE character varying(300) USING {Text("old")},
            ALTER COLUMN legacy_new_value TYPE character varying(300) USING {Text("new")};
        """;

    // The kind guessed from the name exactly as the trend did before (Windows base licences only); rows
    // written since carry the kind the agent classified.
    private const string ProductKind = """
        CASE WHEN product_key IS NULL THEN NULL
                 WHEN product_name LIKE 'Windows%' AND product_name NOT ILIKE '%add-on%' AND product_name NOT ILIKE '%ESU%' THEN 'Windows'
                 WHEN product_name LIKE 'Windows%' THEN 'WindowsAddon'
                 WHEN product_name ILIKE '%office%' THEN 'Office'
                 ELSE 'Other' END
        """;

    /// <summary>
    /// One side's typed columns from its text, and the text kept only where it could not be read. A status that
    /// cannot be read becomes -1 (Unknown), so "no old value" (null) still means the product had just appeared.
    /// </summary>
    private static string Side(string side)
    {
        var t = $"legacy_{side}_value";
        return $"""
            ALTER COLUMN {side}_status TYPE integer USING CASE field
                    WHEN 'status' THEN CASE WHEN {t} IS NOT NULL THEN coalesce(pg_temp.history_status({t}), -1) END
                    WHEN 'product' THEN pg_temp.history_status((pg_temp.history_product({t}))[2]) END,
                ALTER COLUMN {side}_channel TYPE character varying(20) USING CASE field
                    WHEN 'channel' THEN CASE WHEN length({t}) <= 20 THEN {t} END
                    WHEN 'product' THEN (pg_temp.history_product({t}))[1] END,
                ALTER COLUMN {side}_partial_key TYPE character varying(5) USING CASE field
                    WHEN 'key' THEN (pg_temp.history_key({t}))[1]
                    WHEN 'product' THEN (pg_temp.history_product({t}))[3] END,
                ALTER COLUMN {side}_fingerprint_prefix TYPE character varying(8) USING CASE WHEN field = 'key' THEN (pg_temp.history_key({t}))[2] END,
                ALTER COLUMN {side}_kms_host TYPE character varying(255) USING CASE WHEN field = 'kmsHost' AND length({t}) <= 255 THEN {t} END,
                ALTER COLUMN {side}_edition TYPE character varying(100) USING CASE WHEN field = 'edition' AND length({t}) <= 100 THEN {t} END,
                ALTER COLUMN {t} TYPE character varying(300) USING CASE WHEN CASE field
                        WHEN 'status' THEN pg_temp.history_status({t}) IS NOT NULL
                        WHEN 'channel' THEN length({t}) <= 20
                        WHEN 'key' THEN pg_temp.history_key({t}) IS NOT NULL
                        WHEN 'kmsHost' THEN length({t}) <= 255
                        WHEN 'edition' THEN length({t}) <= 100
                        WHEN 'product' THEN pg_temp.history_product({t}) IS NOT NULL
                        ELSE false END
                    THEN NULL ELSE {t} END
            """;
    }

    private static string StatusText(string code) =>
        $"(CASE {code} WHEN -1 THEN 'Unknown' "
        + string.Concat(StatusNames.Select((name, c) => $"WHEN {c} THEN '{name}' "))
        + $"ELSE {code}::text END || ' (' || {code} || ')')";

    /// <summary>Down: the display text again, as the app wrote it before history was typed.</summary>
    private static string Text(string side) => $"""
        coalesce(legacy_{side}_value, CASE field
                WHEN 'status' THEN {StatusText($"{side}_status")}
                WHEN 'channel' THEN {side}_channel
                WHEN 'key' THEN CASE WHEN {side}_fingerprint_prefix IS NULL THEN '…' || {side}_partial_key
                                     ELSE '…' || coalesce({side}_partial_key, '?????') || ' #' || {side}_fingerprint_prefix END
                WHEN 'kmsHost' THEN {side}_kms_host
                WHEN 'edition' THEN {side}_edition
                WHEN 'product' THEN {side}_channel || ', ' || {StatusText($"{side}_status")} || coalesce(', …' || {side}_partial_key, '')
                END)
        """;
}
