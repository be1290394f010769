"""A real Alembic project, made with Alembic's own commands: ``alembic init -t async``, then
38 revisions written by ``alembic revision`` (a branch labelled ``billing`` and a merge),
whose bodies are filled in as a developer would."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config

# (message, upgrade body, downgrade body). SQLite cannot ALTER constraints or types, so
# those changes use batch mode, as Alembic's documentation has SQLite users write them.
TRUNK = [
    ("create users",
     'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("email", sa.String(100), nullable=False), sa.Column("name", sa.String(50)),\n'
     '    sa.UniqueConstraint("email", name="uq_users_email"))',
     'op.drop_table("users")'),
    ("index users by name", 'op.create_index("ix_users_name", "users", ["name"])',
     'op.drop_index("ix_users_name", table_name="users")'),
    ("create products",
     'op.create_table("products", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("sku", sa.String(20), nullable=False), sa.Column("price", sa.Numeric(10, 2)))',
     'op.drop_table("products")'),
    ("add users.created_at", 'op.add_column("users", sa.Column("created_at", sa.DateTime))',
     'with op.batch_alter_table("users") as batch:\n    batch.drop_column("created_at")'),
    ("create orders",
     'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", name="fk_orders_users"), nullable=False),\n'
     '    sa.Column("total", sa.Numeric(10, 2)))',
     'op.drop_table("orders")'),
    ("index orders by user", 'op.create_index("ix_orders_user_id", "orders", ["user_id"])',
     'op.drop_index("ix_orders_user_id", table_name="orders")'),
    ("widen users.name",
     'with op.batch_alter_table("users") as batch:\n'
     '    batch.alter_column("name", existing_type=sa.String(50), type_=sa.String(120))',
     'with op.batch_alter_table("users") as batch:\n'
     '    batch.alter_column("name", existing_type=sa.String(120), type_=sa.String(50))'),
    ("create tags",
     'op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("label", sa.String(40), nullable=False, unique=True))',
     'op.drop_table("tags")'),
    ("add products.description", 'op.add_column("products", sa.Column("description", sa.Text))',
     'with op.batch_alter_table("products") as batch:\n    batch.drop_column("description")'),
    ("create order_items",
     'op.create_table("order_items",\n'
     '    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", name="fk_items_orders"), primary_key=True),\n'
     '    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", name="fk_items_products"), primary_key=True),\n'
     '    sa.Column("qty", sa.Integer, nullable=False))',
     'op.drop_table("order_items")'),
    ("products.sku is unique",
     'with op.batch_alter_table("products") as batch:\n    batch.create_unique_constraint("uq_products_sku", ["sku"])',
     'with op.batch_alter_table("products") as batch:\n    batch.drop_constraint("uq_products_sku", type_="unique")'),
    ("seed tags",
     'tags = sa.table("tags", sa.column("id", sa.Integer), sa.column("label", sa.String))\n'
     'op.bulk_insert(tags, [{"id": 1, "label": "new"}, {"id": 2, "label": "sale"}])',
     'op.execute("DELETE FROM tags WHERE id IN (1, 2)")'),
]
BILLING = [
    ("create invoices",
     'op.create_table("invoices", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", name="fk_invoices_orders")),\n'
     '    sa.Column("amount", sa.Numeric(10, 2), nullable=False))',
     'op.drop_table("invoices")'),
    ("add invoices.paid", 'op.add_column("invoices", sa.Column("paid", sa.Boolean))',
     'with op.batch_alter_table("invoices") as batch:\n    batch.drop_column("paid")'),
    ("index invoices by order", 'op.create_index("ix_invoices_order_id", "invoices", ["order_id"])',
     'op.drop_index("ix_invoices_order_id", table_name="invoices")'),
    ("create payments",
     'op.create_table("payments", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id", name="fk_payments_invoices")))',
     'op.drop_table("payments")'),
    ("add payments.method", 'op.add_column("payments", sa.Column("method", sa.String(20)))',
     'with op.batch_alter_table("payments") as batch:\n    batch.drop_column("method")'),
    ("widen payments.method",
     'with op.batch_alter_table("payments") as batch:\n'
     '    batch.alter_column("method", existing_type=sa.String(20), type_=sa.String(40))',
     'with op.batch_alter_table("payments") as batch:\n'
     '    batch.alter_column("method", existing_type=sa.String(40), type_=sa.String(20))'),
]
MAINLINE = [
    ("create addresses",
     'op.create_table("addresses", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", name="fk_addresses_users")),\n'
     '    sa.Column("city", sa.String(80)))',
     'op.drop_table("addresses")'),
    ("add addresses.zip", 'op.add_column("addresses", sa.Column("zip", sa.String(10)))',
     'with op.batch_alter_table("addresses") as batch:\n    batch.drop_column("zip")'),
    ("index addresses by city", 'op.create_index("ix_addresses_city", "addresses", ["city"])',
     'op.drop_index("ix_addresses_city", table_name="addresses")'),
    ("drop products.description",
     'with op.batch_alter_table("products") as batch:\n    batch.drop_column("description")',
     'op.add_column("products", sa.Column("description", sa.Text))'),
    ("create reviews",
     'op.create_table("reviews", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", name="fk_reviews_products")),\n'
     '    sa.Column("stars", sa.Integer, nullable=False))',
     'op.drop_table("reviews")'),
    ("add reviews.body", 'op.add_column("reviews", sa.Column("body", sa.Text))',
     'with op.batch_alter_table("reviews") as batch:\n    batch.drop_column("body")'),
    ("index reviews by product", 'op.create_index("ix_reviews_product_id", "reviews", ["product_id"])',
     'op.drop_index("ix_reviews_product_id", table_name="reviews")'),
    ("add users.is_admin", 'op.add_column("users", sa.Column("is_admin", sa.Boolean))',
     'with op.batch_alter_table("users") as batch:\n    batch.drop_column("is_admin")'),
]
AFTER_MERGE = [
    ("create audit_log",
     'op.create_table("audit_log", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("at", sa.DateTime, nullable=False), sa.Column("message", sa.Text))',
     'op.drop_table("audit_log")'),
    ("add orders.status", 'op.add_column("orders", sa.Column("status", sa.String(20)))',
     'with op.batch_alter_table("orders") as batch:\n    batch.drop_column("status")'),
    ("index orders by status", 'op.create_index("ix_orders_status", "orders", ["status"])',
     'op.drop_index("ix_orders_status", table_name="orders")'),
    ("create coupons",
     'op.create_table("coupons", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("code", sa.String(30), nullable=False),\n'
     '    sa.UniqueConstraint("code", name="uq_coupons_code"))',
     'op.drop_table("coupons")'),
    ("orders may use a coupon",
     'with op.batch_alter_table("orders") as batch:\n'
     '    batch.add_column(sa.Column("coupon_id", sa.Integer))\n'
     '    batch.create_foreign_key("fk_orders_coupons", "coupons", ["coupon_id"], ["id"])',
     'with op.batch_alter_table("orders") as batch:\n'
     '    batch.drop_constraint("fk_orders_coupons", type_="foreignkey")\n'
     '    batch.drop_column("coupon_id")'),
    ("create warehouses",
     'op.create_table("warehouses", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(60)))',
     'op.drop_table("warehouses")'),
    ("create stock",
     'op.create_table("stock", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("warehouse_id", sa.Integer, sa.ForeignKey("warehouses.id", name="fk_stock_warehouses")),\n'
     '    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", name="fk_stock_products")),\n'
     '    sa.Column("qty", sa.Integer, nullable=False))',
     'op.drop_table("stock")'),
    ("index stock by product", 'op.create_index("ix_stock_product_id", "stock", ["product_id"])',
     'op.drop_index("ix_stock_product_id", table_name="stock")'),
    ("drop the addresses city index", 'op.drop_index("ix_addresses_city", table_name="addresses")',
     'op.create_index("ix_addresses_city", "addresses", ["city"])'),
    ("add warehouses.region", 'op.add_column("warehouses", sa.Column("region", sa.String(30)))',
     'with op.batch_alter_table("warehouses") as batch:\n    batch.drop_column("region")'),
    ("drop audit_log", 'op.drop_table("audit_log")',
     'op.create_table("audit_log", sa.Column("id", sa.Integer, primary_key=True),\n'
     '    sa.Column("at", sa.DateTime, nullable=False), sa.Column("message", sa.Text))'),
]


@dataclass
class AlembicProject:
    root: Path
    trunk: list[str] = field(default_factory=list)
    billing: list[str] = field(default_factory=list)
    mainline: list[str] = field(default_factory=list)
    merge: str = ""
    after_merge: list[str] = field(default_factory=list)

    @property
    def versions(self) -> Path:
        return self.root / "alembic" / "versions"

    @property
    def revisions(self) -> list[str]:
        return [*self.trunk, *self.billing, *self.mainline, self.merge, *self.after_merge]

    def config(self, url: str) -> Config:
        """Alembic's Config for this project, aimed at ``url`` (as alembic.ini's sqlalchemy.url)."""
        cfg = Config(str(self.root / "alembic.ini"))
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return cfg

    def upgrade(self, url: str, target: str) -> None:
        """``alembic upgrade <target>``: blocking (Alembic's async env.py runs its own loop)."""
        command.upgrade(self.config(url), target)


def build(root: Path) -> AlembicProject:
    """``alembic init -t async`` in ``root``, then every revision through ``alembic revision``."""
    project = AlembicProject(root)
    cfg = Config(str(root / "alembic.ini"))
    command.init(cfg, str(root / "alembic"), template="async")
    cfg = Config(str(root / "alembic.ini"))

    def revise(steps: list[tuple[str, str, str]], parent: str, into: list[str], label: str | None = None) -> None:
        for i, (message, up, down) in enumerate(steps):
            script = command.revision(cfg, message=message, head=parent, splice=True,
                                      branch_label=label if i == 0 else None)
            _fill(Path(script.path), up, down)
            parent = script.revision
            into.append(parent)

    revise(TRUNK, "base", project.trunk)
    revise(BILLING, project.trunk[-1], project.billing, label="billing")
    revise(MAINLINE, project.trunk[-1], project.mainline)
    merged = command.merge(cfg, revisions=[project.mainline[-1], project.billing[-1]], message="merge billing")
    project.merge = merged.revision
    revise(AFTER_MERGE, project.merge, project.after_merge)
    return project


def _fill(path: Path, upgrade: str, downgrade: str) -> None:
    def body(code: str) -> str:
        return "\n".join("    " + line for line in code.splitlines())

    text = path.read_text()
    text = text.replace('    """Upgrade schema."""\n    pass', '    """Upgrade schema."""\n' + body(upgrade), 1)
    text = text.replace('    """Downgrade schema."""\n    pass', '    """Downgrade schema."""\n' + body(downgrade), 1)
    path.write_text(text)
