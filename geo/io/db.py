"""PostGIS: read hazard layers from a database table or query, write an analysis back as tables.

Connections go through SQLAlchemy and psycopg (the pyogrio wheels carry no
PostgreSQL driver).  A connection string is ``postgresql://user@host:port/db``;
a missing password comes, as for ``psql``, from ``PGPASSWORD``, ``~/.pgpass`` or a
service file (``postgresql:///db?service=name``).  Passwords never reach a
message, a log line or an output: every connection string shown is redacted.

Reading runs in a read-only transaction; table names are quoted identifiers,
never text formatted into SQL.  Writing (:func:`write_postgis`) happens in one
transaction: a failure leaves the previous results untouched, and a re-run of the
same ``run_name`` replaces that run's tables as a whole.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import GeoEnvironmentError, GeoInputError

#: Connection-string schemes geo reads as PostGIS.
SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: Tables one analysis writes (prefixed with the run name).
RESULT_TABLES = ("by_province", "bands", "hazard_pieces", "zones")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


def is_db_url(text: str | Path | None) -> bool:
    """Whether ``text`` is a PostgreSQL connection string.

    Examples
    --------
    >>> is_db_url("postgresql://me@localhost/mine_action"), is_db_url("hazards.gpkg")
    (True, False)
    """
    return isinstance(text, str) and text.startswith(SCHEMES)


def _url_parts(url: str) -> tuple[str, str, str | None, str, str] | None:
    """A connection string's scheme, user, password (as typed, or None), host and the rest (path and
    query); None for text that is not a URL.  The user part ends at the last ``@`` before the host, so
    a password with a bare ``@`` in it stays whole.

    Examples
    --------
    >>> _url_parts("postgresql://ops:p@ss@db.example:5432/ima?sslmode=require")
    ('postgresql', 'ops', 'p@ss', 'db.example:5432', '/ima?sslmode=require')
    """
    head, sep, rest = url.partition("://")
    if not sep:
        return None
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    user, colon, password = userinfo.partition(":")
    return head, user, (password if at and colon else None), host if at else rest[:end], rest[end:]


def _secrets(url: str) -> list[str]:
    """Every password ``url`` carries, in any form libpq takes: in the user part, as a ``password=``
    parameter, and ``PGPASSWORD``; longest first."""
    import os
    from urllib.parse import parse_qsl, unquote

    found = []
    parts = _url_parts(url)
    if parts is not None:
        password, rest = parts[2], parts[4]
        if password:
            found += [password, unquote(password)]
        query = rest.partition("?")[2]
        found += [v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() == "password"]
        found += [v for k, v in (q.split("=", 1) for q in query.split("&") if "=" in q) if k.lower() == "password"]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact(url: str) -> str:
    """The connection string without its password, in whatever form it was given.

    Examples
    --------
    >>> redact("postgresql://ops:s3cret@db.example:5432/ima?sslmode=require")
    'postgresql://ops:***@db.example:5432/ima?sslmode=require'
    >>> redact("postgresql://ops:p@ss@db.example/ima")
    'postgresql://ops:***@db.example/ima'
    >>> redact("postgresql://ops@db.example/ima?password=s3cret&sslmode=require")
    'postgresql://ops@db.example/ima?password=***&sslmode=require'
    """
    parts = _url_parts(url)
    if parts is None:
        return url
    head, user, password, host, rest = parts
    userinfo = f"{user}:***@" if password is not None else (f"{user}@" if user else "")
    path, q, query = rest.partition("?")
    if q:
        pairs = [p.split("=", 1) for p in query.split("&")]
        query = "&".join(f"{p[0]}=***" if len(p) == 2 and p[0].lower() == "password" else "=".join(p) for p in pairs)
    text = f"{head}://{userinfo}{host}{path}{q}{query}"
    for secret in _secrets(url):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def split_table(url: str) -> tuple[str, str | None]:
    """A connection string and the layer it names with ``table=`` (removed, as libpq would refuse it).

    Every option that takes a layer file also takes ``postgresql://.../db?table=schema.name``.

    Examples
    --------
    >>> split_table("postgresql://me@host/ima?table=admin.provinces&sslmode=require")
    ('postgresql://me@host/ima?sslmode=require', 'admin.provinces')
    >>> split_table("postgresql://me@host/ima")
    ('postgresql://me@host/ima', None)
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    tables = [v for k, v in query if k == "table"]
    rest = urlencode([(k, v) for k, v in query if k != "table"])
    return urlunsplit(parts._replace(query=rest)), (tables[-1] if tables else None)


def read_layer(source: str, *, table: str | None = None) -> tuple[gpd.GeoDataFrame, dict]:
    """Any layer (provinces, frontier, sites) from ``postgresql://.../db?table=name``, with its provenance.

    ``table`` names the table when the connection string does not.  The provenance record
    holds the redacted connection string, the table and a sha256 of the rows read.
    """
    import hashlib

    url, named = split_table(source)
    table = table or named
    if table is None:
        raise GeoInputError("name the table: postgresql://.../db?table=NAME (or schema.NAME)", redact(url))
    gdf, prov = read_postgis_layer(url, table=table)
    digest = hashlib.sha256()
    for geom in gdf.geometry.to_wkb():
        digest.update(geom or b"")
    digest.update(gdf.drop(columns=gdf.geometry.name).to_csv(index=False).encode())
    return gdf, {**prov, "sha256": digest.hexdigest()}


def need_postgis() -> None:
    """Refuse clearly when the PostGIS stack (geo's ``postgis`` extra) is not installed."""
    import importlib.util

    missing = [m for m in ("sqlalchemy", "psycopg", "geoalchemy2") if importlib.util.find_spec(m) is None]
    if missing:
        raise GeoEnvironmentError(
            f"reading or writing PostGIS needs {', '.join(missing)}: pip install 'geo-mine-action[postgis]'"
        )


def _engine(url: str, *, read_only: bool = False):
    """An engine for ``url``; with ``read_only`` every transaction of its sessions is read-only on the
    server (``default_transaction_read_only``), whatever a statement does to the one it runs in."""
    from sqlalchemy import create_engine

    driver = re.sub(r"^(postgresql|postgres)(\+psycopg)?://", "postgresql+psycopg://", _quoted_password(url))
    args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    return create_engine(driver, pool_pre_ping=False, future=True, connect_args=args)


def _quoted_password(url: str) -> str:
    """``url`` with the password of its user part percent-encoded, so a password with a bare ``@`` or
    ``:`` in it connects as typed.

    Examples
    --------
    >>> _quoted_password("postgresql://ops:p@ss:w0rd@db.example/ima")
    'postgresql://ops:p%40ss%3Aw0rd@db.example/ima'
    """
    from urllib.parse import quote, unquote

    parts = _url_parts(url)
    if parts is None:
        return url
    head, user, password, host, rest = parts
    if password is None:
        return url
    return f"{head}://{user}:{quote(unquote(password), safe='')}@{host}{rest}"


def _query_layer(conn, sql: str, geometry_oid: int | None, where: str) -> gpd.GeoDataFrame:
    """The rows of the user's query, run as it is: one statement, prepared by the server (which refuses
    several statements in one), in the read-only transaction of ``conn``; never pasted into other SQL."""
    import shapely

    raw = conn.connection.driver_connection  # the psycopg connection under SQLAlchemy's
    with raw.cursor() as cur:
        cur.execute(sql, prepare=True)
        if cur.description is None:
            raise GeoInputError("the --sql query returns no rows: give one SELECT statement", where)
        names = [d.name for d in cur.description]
        geometry = [d.name for d in cur.description if geometry_oid is not None and d.type_code == geometry_oid]
        rows = cur.fetchall()
    if not geometry:
        raise GeoInputError("the --sql query returns no geometry column", where)
    frame = pd.DataFrame.from_records(rows, columns=names)
    column = frame.pop(geometry[0]) if names.count(geometry[0]) == 1 else frame.pop(geometry[0]).iloc[:, 0]
    geoms = shapely.from_wkb(column.to_numpy())
    srids = {int(s) for s in shapely.get_srid(geoms[~shapely.is_missing(geoms)]) if s}
    if len(srids) > 1:
        raise GeoInputError(f"the --sql query's geometries have several SRIDs ({sorted(srids)}); give one", where)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=srids.pop() if srids else None)


def _clean(exc: Exception, url: str) -> str:
    """A driver's message with every password of ``url`` (and ``PGPASSWORD``) removed."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def _table_parts(name: str) -> tuple[str | None, str]:
    parts = name.split(".")
    if len(parts) > 2 or not all(parts):
        raise GeoInputError(f"--table {name!r}: give a table name or schema.table")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def read_postgis_layer(url: str, *, table: str | None = None, sql: str | None = None) -> tuple[gpd.GeoDataFrame, dict]:
    """A table (or a read-only query) as a GeoDataFrame with its CRS, and a provenance record.

    Parameters
    ----------
    url : str
        ``postgresql://user@host/db`` (password from the environment, ``~/.pgpass`` or a service file).
    table : str, optional
        ``table`` or ``schema.table``; its geometry column and SRID come from ``geometry_columns``.
    sql : str, optional
        One query (a single statement) returning a geometry column.  It runs as it is, prepared by
        the server, in a session whose every transaction is read-only: it cannot write, and a second
        statement after a ``;`` is refused.

    Returns
    -------
    (GeoDataFrame, dict)
        The layer, and ``{"database": <redacted url>, "table"|"sql": ...}``.
    """
    need_postgis()
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    if (table is None) == (sql is None):
        raise GeoInputError("a database source needs --table NAME or --sql QUERY (one of them)", redact(url))
    where = redact(url)
    engine = None
    try:
        engine = _engine(url, read_only=True)
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            if table is not None:
                schema, name = _table_parts(table)
                row = conn.execute(
                    text(
                        "SELECT f_table_schema, f_geometry_column, srid FROM geometry_columns "
                        "WHERE f_table_name = :name "
                        "AND (CAST(:schema AS text) IS NULL OR f_table_schema = CAST(:schema AS text)) "
                        "ORDER BY f_table_schema = current_schema() DESC LIMIT 1"
                    ),
                    {"name": name, "schema": schema},
                ).first()
                if row is None:
                    raise GeoInputError(f"no table {table!r} with a geometry column", where)
                prep = engine.dialect.identifier_preparer
                query = f"SELECT * FROM {prep.quote_schema(row[0])}.{prep.quote(name)}"  # quoted identifiers
                gdf = gpd.read_postgis(text(query), conn, geom_col=row[1])
                if gdf.crs is None and row[2]:
                    gdf = gdf.set_crs(int(row[2]))
                source = {"database": where, "table": f"{row[0]}.{name}"}
            else:
                assert sql is not None
                oid = conn.execute(text("SELECT oid FROM pg_type WHERE typname = 'geometry'")).scalar()
                gdf = _query_layer(conn, sql, oid, where)
                source = {"database": where, "sql": sql}
    except GeoInputError:
        raise
    except SQLAlchemyError as exc:
        raise GeoInputError(f"database error: {_clean(getattr(exc, 'orig', None) or exc, url)}", where) from None
    except Exception as exc:  # driver errors (connection refused, authentication) name the server only
        raise GeoInputError(f"cannot read from the database: {_clean(exc, url)}", where) from None
    finally:
        if engine is not None:
            engine.dispose()  # no connection left open, whatever failed
    if gdf.crs is None:
        raise GeoInputError("the geometry column has no SRID; set one (UpdateGeometrySRID) or use --sql", where)
    return gdf, source


def write_postgis(
    layers: dict[str, pd.DataFrame],
    summary: dict,
    url: str,
    *,
    schema: str = "geo_results",
    run_name: str = "latest",
) -> dict:
    """Write an analysis' tables and summary into PostGIS: tables ``<run>_by_province``,
    ``<run>_bands``, ``<run>_hazard_pieces`` and ``<run>_zones`` (WGS 84) of ``schema``, in one
    transaction.  ``layers`` are those of :func:`geo.render.export.postgis_layers`, ``summary``
    the analysis' summary (version, SYNTHETIC flag and headline figures of the ``runs`` table).

    Each table has a primary key, geometry tables a GiST index, and every table a comment with the
    source, date, geo version and the SYNTHETIC flag.  The view ``<run>_hazards_by_band`` (id,
    province, code, band, pieces, hazards, area_sum_km2, geometry: the pieces of each province and
    band united, WGS 84) opens in QGIS as a layer.  The ``runs`` table lists the runs.  A re-run
    of ``run_name`` replaces its tables; a failure anywhere leaves every table as it was.

    Returns
    -------
    dict
        ``schema``, ``run_name``, ``tables`` and ``database`` (redacted).
    """
    need_postgis()
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    for label, value in (("--schema", schema), ("--run-name", run_name)):
        if not _NAME.match(value):
            raise GeoInputError(f"{label} {value!r}: use letters, digits and _ (start with a letter), at most 41")
    where = redact(url)
    s = summary
    notice = s.get("notice")
    comment = (
        f"geo {s.get('version')} analysis, run {run_name}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"hazards: {(s.get('inputs', {}).get('hazards') or {}).get('file') or 'database'}"
        + (f"; {notice}" if notice else "")
    )
    try:
        engine = _engine(url)
        prep = engine.dialect.identifier_preparer
        sch = prep.quote_schema(schema)
        with engine.begin() as conn:  # one transaction: all of it or nothing
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {sch}")
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {sch}.runs (run_name text PRIMARY KEY, written_at timestamptz NOT NULL, "
                "geo_version text, synthetic boolean NOT NULL, hazards integer, area_km2 double precision, "
                "within_2km_km2 double precision, within_7km_km2 double precision, source text)"
            )
            tables = []
            for name, frame in layers.items():
                table = f"{run_name}_{name}"
                q = f"{sch}.{prep.quote(table)}"
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {q} CASCADE")
                if isinstance(frame, gpd.GeoDataFrame):
                    # Typed columns (geometry(MultiPolygon, 4326)): QGIS reads an untyped one as MultiSurface.
                    # GeoAlchemy2 adds the GiST index of the geometry column.
                    multi_geometries(frame).to_postgis(table, conn, schema=schema, index=True, index_label="id")
                else:
                    frame.to_sql(table, conn, schema=schema, index=True, index_label="id")
                conn.exec_driver_sql(f"ALTER TABLE {q} ADD PRIMARY KEY (id)")
                conn.exec_driver_sql(f"COMMENT ON TABLE {q} IS {_literal(comment)}")
                tables.append(f"{schema}.{table}")
            # A view QGIS opens as a layer: the hazard pieces of each province and band as one
            # multipolygon (land counted once within it), with their summed and united areas.
            view = f"{sch}.{prep.quote(f'{run_name}_hazards_by_band')}"
            pieces = f"{sch}.{prep.quote(f'{run_name}_hazard_pieces')}"
            conn.exec_driver_sql(
                f"CREATE VIEW {view} AS SELECT row_number() OVER (ORDER BY code, band) AS id, province, code, band, "
                "count(*) AS pieces, count(DISTINCT hazard_id) AS hazards, sum(area_m2) / 1e6 AS area_sum_km2, "
                "ST_Multi(ST_CollectionExtract(ST_Union(geometry), 3))::geometry(MultiPolygon, 4326) AS geometry "
                f"FROM {pieces} GROUP BY province, code, band"
            )
            conn.exec_driver_sql(f"COMMENT ON VIEW {view} IS {_literal(comment)}")
            conn.execute(
                text(
                    f"INSERT INTO {sch}.runs VALUES (:run, now(), :version, :synthetic, :hazards, :area, :w2, :w7, "
                    ":source) ON CONFLICT (run_name) DO UPDATE SET written_at = now(), "
                    "geo_version = EXCLUDED.geo_version, synthetic = EXCLUDED.synthetic, hazards = EXCLUDED.hazards, "
                    "area_km2 = EXCLUDED.area_km2, "
                    "within_2km_km2 = EXCLUDED.within_2km_km2, within_7km_km2 = EXCLUDED.within_7km_km2, "
                    "source = EXCLUDED.source"
                ),
                {
                    "run": run_name,
                    "version": s.get("version"),
                    "synthetic": bool(s.get("synthetic")),
                    "hazards": int(s.get("hazards", 0)),
                    "area": float(s.get("area_km2", 0.0)),
                    "w2": float(s.get("within_2km_km2", 0.0)),
                    "w7": float(s.get("within_7km_km2", 0.0)),
                    "source": comment,
                },
            )
    except SQLAlchemyError as exc:
        raise GeoInputError(
            f"writing to the database failed, nothing was changed: {_clean(getattr(exc, 'orig', None) or exc, url)}",
            where,
        ) from None
    except GeoInputError:
        raise
    except Exception as exc:
        raise GeoInputError(f"cannot write to the database, nothing was changed: {_clean(exc, url)}", where) from None
    return {
        "database": where,
        "schema": schema,
        "run_name": run_name,
        "tables": tables,
        "views": [f"{schema}.{run_name}_hazards_by_band"],
    }


def multi_geometries(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons and multipolygons as multipolygons (lines likewise), so one geometry type, and a typed
    column, describes the layer.

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)])])
    >>> multi_geometries(f).geom_type.unique().tolist()
    ['MultiPolygon']
    """
    import shapely

    geoms = frame.geometry.to_numpy()
    present = geoms[~shapely.is_missing(geoms)]
    kinds = set(shapely.get_type_id(present).tolist())
    if kinds and kinds <= {3, 6}:  # Polygon, MultiPolygon
        single = shapely.get_type_id(geoms) == 3
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    elif kinds and kinds <= {1, 5}:  # LineString, MultiLineString
        single = shapely.get_type_id(geoms) == 1
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiLineString([g]) for g in geoms[single]]
    else:
        return frame
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs), crs=frame.crs)


def _literal(value: str) -> str:
    """A SQL string literal (COMMENT ON takes no bound parameters): quotes doubled, no backslash escapes."""
    return "'" + value.replace("'", "''") + "'"


__all__ = [
    "RESULT_TABLES",
    "is_db_url",
    "read_layer",
    "read_postgis_layer",
    "redact",
    "split_table",
    "write_postgis",
]
