package reports

import (
	"fmt"
	"math"
	"time"

	"github.com/nocagent/nocagent/plugins/inspection"
)

// messages holds every label of the reports, per language. A key missing
// in one language is a bug that TestMessagesComplete catches.
var messages = map[string]map[string]string{
	inspection.LangEnglish: {
		"inspection.title":       "Inspection report",
		"service.title":          "Monthly service report",
		"customer":               "Customer",
		"contract":               "Contract",
		"period":                 "Period",
		"inspected_at":           "Inspected at",
		"generated_at":           "Generated at",
		"summary":                "Summary",
		"devices_inspected":      "Devices inspected",
		"devices_unreachable":    "Devices not answering",
		"findings":               "Findings",
		"findings_by_severity":   "Findings by severity",
		"devices":                "Devices",
		"device":                 "Device",
		"site":                   "Site",
		"role":                   "Role",
		"serial":                 "Serial number",
		"model":                  "Model",
		"firmware":               "Firmware",
		"uptime":                 "Uptime",
		"status":                 "Status",
		"reachable":              "answering",
		"unreachable":            "not answering",
		"severity":               "Severity",
		"category":               "Category",
		"finding":                "Finding",
		"evidence":               "Evidence",
		"recommendation":         "Recommendation",
		"recommendations":        "Recommendations",
		"no_findings":            "No findings: the device is healthy.",
		"inspection_errors":      "Inspection incomplete",
		"kpis":                   "Service figures",
		"availability":           "Availability",
		"availability_by_device": "Availability by device",
		"downtime":               "Downtime",
		"faults":                 "Faults",
		"faults_by_category":     "Faults by category",
		"fault_count":            "Faults",
		"fault_duration":         "Fault duration",
		"major_faults":           "Major faults (P1)",
		"response_compliance":    "Response compliance",
		"resolution_compliance":  "Resolution compliance",
		"repair_timeliness":      "Repair timeliness ratio",
		"mtta":                   "Mean time to acknowledge (MTTA)",
		"mttr":                   "Mean time to repair (MTTR)",
		"satisfaction":           "Customer satisfaction",
		"survey_responses":       "Survey responses",
		"open_problems":          "Open problems",
		"tickets":                "Tickets",
		"ticket":                 "Ticket",
		"title":                  "Title",
		"opened":                 "Opened",
		"resolved":               "Resolved",
		"state":                  "State",
		"none":                   "None.",
		"na":                     "n/a",
		"problem":                "Problem",
		"latest_inspection":      "Latest inspection",
		"no_inspection":          "No inspection was run for this contract yet.",
		"sev.info":               "info",
		"sev.warning":            "warning",
		"sev.major":              "major",
		"sev.critical":           "critical",
		"cat.hardware":           "hardware",
		"cat.performance":        "performance",
		"cat.link":               "link",
		"cat.configuration":      "configuration",
		"cat.availability":       "availability",
		"cat.security":           "security",
		"cat.":                   "other",
		"rec.finding":            "%s: %s",
		"rec.response":           "Response compliance was %s: review the on-call rota and the escalation tiers so that every ticket is acknowledged within its target.",
		"rec.resolution":         "Resolution compliance was %s: review spare parts, remote access and the repair process for the slowest categories.",
		"rec.availability":       "%s was available %s of the period: review its redundancy and power.",
		"rec.problems":           "%d problem record(s) are open: complete their root-cause review to stop the faults recurring.",
		"rec.satisfaction":       "Customer satisfaction was %s: follow up the unsatisfied surveys with the customer.",
		"rec.none":               "No action needed: the service met its targets.",
		"dur.h":                  "%d h %d min",
		"dur.m":                  "%d min",
		"dur.d":                  "%d d %d h",
		"month":                  "January|February|March|April|May|June|July|August|September|October|November|December",
		"month.fmt":              "%[2]s %[1]d",
		"percent":                "%.1f%%",
		"percent3":               "%.3f%%",
		"satisfaction.responses": "%s (%d responses)",
	},
	inspection.LangChinese: {
		"inspection.title":       "巡检报告",
		"service.title":          "月度服务报告",
		"customer":               "客户",
		"contract":               "合同",
		"period":                 "统计周期",
		"inspected_at":           "巡检时间",
		"generated_at":           "生成时间",
		"summary":                "概要",
		"devices_inspected":      "巡检设备数",
		"devices_unreachable":    "无响应设备数",
		"findings":               "巡检发现",
		"findings_by_severity":   "按严重程度统计的发现",
		"devices":                "设备",
		"device":                 "设备",
		"site":                   "站点",
		"role":                   "角色",
		"serial":                 "序列号",
		"model":                  "型号",
		"firmware":               "固件版本",
		"uptime":                 "运行时间",
		"status":                 "状态",
		"reachable":              "正常响应",
		"unreachable":            "无响应",
		"severity":               "严重程度",
		"category":               "类别",
		"finding":                "发现",
		"evidence":               "证据",
		"recommendation":         "建议",
		"recommendations":        "改进建议",
		"no_findings":            "无发现：设备运行正常。",
		"inspection_errors":      "巡检未完成",
		"kpis":                   "服务指标",
		"availability":           "可用率",
		"availability_by_device": "各设备可用率",
		"downtime":               "中断时长",
		"faults":                 "故障",
		"faults_by_category":     "按类别统计的故障",
		"fault_count":            "故障次数",
		"fault_duration":         "故障时长",
		"major_faults":           "重大故障（P1）",
		"response_compliance":    "响应达标率",
		"resolution_compliance":  "解决达标率",
		"repair_timeliness":      "修复及时率",
		"mtta":                   "平均响应时间（MTTA）",
		"mttr":                   "平均修复时间（MTTR）",
		"satisfaction":           "客户满意度",
		"survey_responses":       "回访数",
		"open_problems":          "未关闭问题",
		"tickets":                "工单数",
		"ticket":                 "工单",
		"title":                  "标题",
		"opened":                 "创建时间",
		"resolved":               "解决时间",
		"state":                  "状态",
		"none":                   "无。",
		"na":                     "不适用",
		"problem":                "问题",
		"latest_inspection":      "最近一次巡检",
		"no_inspection":          "该合同尚未进行巡检。",
		"sev.info":               "提示",
		"sev.warning":            "警告",
		"sev.major":              "重要",
		"sev.critical":           "严重",
		"cat.hardware":           "硬件",
		"cat.performance":        "性能",
		"cat.link":               "链路",
		"cat.configuration":      "配置",
		"cat.availability":       "可用性",
		"cat.security":           "安全",
		"cat.":                   "其他",
		"rec.finding":            "%s：%s",
		"rec.response":           "响应达标率为 %s：请检查值班安排和升级层级，确保每张工单在目标时间内响应。",
		"rec.resolution":         "解决达标率为 %s：请检查备件、远程接入和最慢类别的维修流程。",
		"rec.availability":       "%s 的可用率为 %s：请检查其冗余和供电。",
		"rec.problems":           "有 %d 个问题记录未关闭：请完成根因分析，避免故障重复发生。",
		"rec.satisfaction":       "客户满意度为 %s：请与客户跟进不满意的回访。",
		"rec.none":               "无需采取措施：服务达到了各项目标。",
		"dur.h":                  "%d小时%d分钟",
		"dur.m":                  "%d分钟",
		"dur.d":                  "%d天%d小时",
		"month":                  "1月|2月|3月|4月|5月|6月|7月|8月|9月|10月|11月|12月",
		"month.fmt":              "%[1]d年%[2]s",
		"percent":                "%.1f%%",
		"percent3":               "%.3f%%",
		"satisfaction.responses": "%s（%d 份回访）",
	},
}

// tr translates key into lang; a missing key shows as ?key? so a test
// can find it.
func tr(lang, key string, args ...any) string {
	m, ok := messages[lang]
	if !ok {
		m = messages[inspection.LangEnglish]
	}
	s, ok := m[key]
	if !ok {
		return "?" + key + "?"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// monthName formats the month of t, e.g. "March 2026" or "2026年3月".
func monthName(lang string, t time.Time) string {
	names := splitBar(tr(lang, "month"))
	return tr(lang, "month.fmt", t.Year(), names[int(t.Month())-1])
}

func splitBar(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// duration formats seconds as a readable span.
func duration(lang string, sec float64) string {
	if math.IsNaN(sec) || sec < 0 {
		return tr(lang, "na")
	}
	m := int(math.Round(sec / 60))
	switch {
	case m >= 48*60:
		return tr(lang, "dur.d", m/1440, m%1440/60)
	case m >= 60:
		return tr(lang, "dur.h", m/60, m%60)
	}
	return tr(lang, "dur.m", m)
}

// ratio formats a [0, 1] ratio as a percentage, nil as n/a.
func ratio(lang string, r *float64) string {
	if r == nil {
		return tr(lang, "na")
	}
	return tr(lang, "percent", *r*100)
}
