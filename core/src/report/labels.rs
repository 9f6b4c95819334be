//! Section and column titles, in Vietnamese with the English beside (the users read
//! Vietnamese; auditors outside the city read English).

pub(crate) const TITLE: &str = "Báo cáo kiểm tra hạ tầng số (Infrastructure audit report)";
pub(crate) const INVENTORY: &str = "Hồ sơ hạ tầng (Inventory)";
pub(crate) const COMMIT: &str = "Phiên bản Git (Git commit)";
pub(crate) const JUDGED_ON: &str = "Ngày đánh giá (Date judged)";
pub(crate) const TOOL: &str = "Công cụ (Tool)";
pub(crate) const TARGETS: &str = "Chỉ tiêu kế hoạch (Plan targets)";
pub(crate) const COVERAGE: &str = "Kết nối UBND xã, phường (Commune coverage)";
pub(crate) const DR: &str = "Dự phòng thảm họa (Disaster recovery)";
pub(crate) const LEASES: &str = "Hợp đồng thuê chỗ sắp hết hạn (Leases ending soon)";
pub(crate) const POOLS: &str = "Sử dụng không gian địa chỉ (Address pool use)";
pub(crate) const CAPACITY: &str = "Năng lực tủ rack và nguồn điện (Rack and power capacity)";
pub(crate) const FINDINGS: &str = "Phát hiện (Findings)";
pub(crate) const DRIFT: &str = "Sai lệch cấu hình (Configuration drift)";

pub(crate) const TARGET_COLUMNS: [&str; 9] = [
    "Chỉ tiêu (Target)",
    "Văn bản (Document)",
    "Điều khoản (Clause)",
    "Chỉ số (Metric)",
    "Hiện tại (Value)",
    "Mục tiêu (Target)",
    "Thời hạn (Deadline)",
    "Trạng thái (Status)",
    "Đối tượng chưa đạt (Failing)",
];

pub(crate) const DR_COLUMNS: [&str; 9] = [
    "Hệ thống (System)",
    "Cấp độ (Level)",
    "Phê duyệt (Approved)",
    "Trung tâm dữ liệu (Data center)",
    "Bản sao (Replica)",
    "RPO (phút / min)",
    "RTO (phút / min)",
    "Diễn tập gần nhất (Last drill)",
    "Sao lưu ngoài (Off-site backup)",
];

pub(crate) const LEASE_COLUMNS: [&str; 6] = [
    "Hợp đồng (Lease)",
    "Đơn vị thuê (Tenant)",
    "Trung tâm dữ liệu (Data center)",
    "Ngày kết thúc (End)",
    "Còn lại, ngày (Days left)",
    "Công suất kW (Power kW)",
];

pub(crate) const POOL_COLUMNS: [&str; 5] = [
    "Dải (Pool)",
    "Đơn vị (Unit)",
    "Đã dùng (Used)",
    "Tổng (Total)",
    "Tỷ lệ (Percent)",
];

pub(crate) const CAPACITY_COLUMNS: [&str; 6] = [
    "Trung tâm dữ liệu (Data center)",
    "Cấp (Tier)",
    "U trống / tổng (Free / total U)",
    "Điện dùng / ngân sách kW (Power used / budget kW)",
    "Nguồn hẹp nhất (Tightest feed)",
    "Dự phòng kW (Headroom kW)",
];

pub(crate) const YES: &str = "Có (yes)";
pub(crate) const NO: &str = "Không (no)";
pub(crate) const NONE: &str = "—";
