//! The guidance assistant's language data, kept in one place so that whoever maintains the
//! catalogue can extend it without reading the engine.
//!
//! Everything here is plain data: phrase lists and maps. The guide's engine
//! (`quanban::guide::engine`) decides how they are used (stripped, expanded, used as hints).

/// Filler phrases removed before matching: they carry the *form* of a question, not its topic.
///
/// Sorted longest first at use, so `要办哪些` goes before `哪些`. Topic words (证, 手续) are kept
/// on purpose: "开饭店办证" should still lean towards licences.
pub const FILLERS: &[&str] = &[
    "请问一下",
    "请问",
    "麻烦问下",
    "麻烦问一下",
    "我想问一下",
    "我想问",
    "问一下",
    "你好",
    "您好",
    "我想要",
    "我想",
    "我要",
    "我们",
    "想要",
    "打算",
    "准备",
    "听说",
    "怎么办理",
    "如何办理",
    "怎么弄",
    "怎么办",
    "怎么",
    "如何",
    "咋办",
    "咋",
    "要办什么",
    "要办哪些",
    "需要办什么",
    "需要什么",
    "需要哪些",
    "要准备什么",
    "都要办",
    "要办",
    "办什么",
    "哪些",
    "什么",
    "在哪里",
    "在哪儿",
    "在哪",
    "去哪里",
    "去哪",
    "哪里",
    "能不能",
    "可不可以",
    "可以吗",
    "有没有",
    "是不是",
    "要不要",
    "需要",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "了",
    "的",
    "一下",
    "谢谢",
];

/// Single characters that mean nothing on their own once fillers are gone; they are not used to
/// judge how much of a query was understood.
pub const STOP_CHARS: &[char] = &[
    '我', '你', '他', '她', '想', '要', '个', '把', '在', '去', '能', '会', '就', '还', '也', '都', '和',
    '跟', '与', '或', '是', '有', '得', '地', '着', '过', '给', '让', '被', '从', '到', '对', '这', '那',
    '些', '啥', '么', '下', '一', '次', '吗', '呢', '了', '的', '啊', '吧', '俺', '咱',
];

/// Pinyin-input slips (a homophone typed instead of the intended character), corrected before
/// anything else. Only unambiguous ones: a correction must never turn a right query wrong.
pub const TYPOS: &[(&str, &str)] = &[
    ("公积斤", "公积金"),
    ("公基金", "公积金"),
    ("社宝", "社保"),
    ("医宝", "医保"),
    ("身份正", "身份证"),
    ("身分证", "身份证"),
    ("营叶执照", "营业执照"),
    ("营业执找", "营业执照"),
    ("执找", "执照"),
    ("驾照换正", "驾照换证"),
    ("驾使证", "驾驶证"),
    ("户口薄", "户口本"),
    ("结昏", "结婚"),
    ("离昏", "离婚"),
    ("养老全", "养老金"),
    ("退修", "退休"),
];

/// Colloquial phrase → words the catalogue uses. Each entry is `(triggers, expansions)`: when
/// any trigger appears in the query, the expansions are searched too, and a candidate containing
/// a trigger *or* an expansion counts as understanding that part of the query.
pub const SYNONYMS: &[(&[&str], &[&str])] = &[
    // Food businesses.
    (
        &[
            "小饭馆",
            "饭馆",
            "餐馆",
            "饭店",
            "小吃店",
            "小饭店",
            "餐厅",
            "饭庄",
            "麻辣烫",
            "面馆",
            "快餐店",
            "烧烤店",
            "火锅店",
            "奶茶店",
        ],
        &["餐饮", "餐馆", "饭店", "食品经营", "小餐饮"],
    ),
    (&["早餐铺", "早点摊", "早餐店", "早点铺", "包子铺"], &["早点铺", "小餐饮", "小吃店"]),
    (&["卖吃的", "卖熟食"], &["餐饮", "食品经营", "熟食"]),
    (&["小卖部", "便利店", "小超市", "超市", "烟酒店"], &["便利店", "小超市", "预包装食品", "小卖部"]),
    (&["零食", "饮料"], &["预包装食品", "零食饮料"]),
    // Birth and children.
    (
        &[
            "生孩子",
            "孩子出生",
            "宝宝出生",
            "刚出生",
            "出生了",
            "生下来",
            "生了孩子",
            "预产期",
            "新生儿",
            "生宝宝",
        ],
        &["出生", "新生儿"],
    ),
    (&["二胎", "三胎", "二孩", "三孩"], &["生育登记", "三孩登记"]),
    (&["产假工资", "生孩子单位给的钱"], &["生育津贴"]),
    (&["上学", "读书"], &["入学", "学校"]),
    (&["上一年级", "上小学", "小学入学", "一年级"], &["小学报名", "义务教育入学", "一年级招生"]),
    // Housing fund.
    (&["取公积金", "公积金取", "取出来", "拿出来", "提公积金", "公积金提"], &["提取", "公积金提取"]),
    (&["付房租", "交房租"], &["租房提取", "公积金付房租"]),
    // Company life cycle.
    (&["网店", "电商", "淘宝店", "直播带货", "开网店"], &["电子商务", "个体户执照", "营业执照", "注册公司"]),
    (
        &["开公司", "注册公司", "办公司", "成立公司", "办执照", "领执照"],
        &["企业设立", "注册公司", "营业执照"],
    ),
    (&["营业执照", "执照"], &["营业执照", "执照"]),
    (&["换证", "换卡", "换本", "换个新的"], &["换领", "换发", "补换", "换证"]),
    (&["个体", "个体户", "个体工商户", "夫妻店"], &["个体户", "个体工商户"]),
    (&["关掉", "关门", "不干了", "不想干了", "不开了", "倒闭"], &["注销"]),
    (&["改名字", "改名"], &["改名", "变更"]),
    // Vehicles and cards.
    (&["驾照", "驾驶本", "驾驶执照"], &["驾驶证", "驾照"]),
    (&["电动车", "电瓶车", "小电驴"], &["电动自行车", "电动车"]),
    (&["去香港", "去澳门", "港澳"], &["港澳通行证"]),
    (&["狗", "狗狗"], &["养犬", "养狗"]),
    (&["坐公交", "公交卡", "乘车卡"], &["乘车卡", "老年公交卡"]),
    // Social insurance and welfare.
    (&["社保"], &["社会保险", "社保"]),
    (&["医保"], &["医疗保险", "医保"]),
    (&["看病"], &["就医", "医疗"]),
    (&["养老金", "退休金"], &["养老金", "养老保险待遇"]),
    (&["退休"], &["退休", "养老"]),
    (&["丢了", "丢失", "被偷", "弄丢", "找不到", "遗失"], &["补领", "补办", "挂失"]),
    (&["过期", "到期"], &["换领", "换证", "到期"]),
    (&["去世", "走了", "过世", "死亡", "后事", "身后事"], &["身后", "死亡", "去世"]),
    (&["欠工资", "不发工资", "欠薪", "拖欠工资"], &["拖欠工资", "欠薪"]),
    (&["开了", "辞退", "开除"], &["辞退", "劳动仲裁"]),
    (&["揭不开锅", "没收入", "生活困难"], &["最低生活保障", "临时救助", "低保"]),
    (&["瘫", "卧床", "护理"], &["失能", "护理", "长期护理保险"]),
    (&["吵", "噪音", "扰民"], &["噪音", "12345"]),
    (&["被骗", "不给退", "不退款"], &["消费维权", "投诉", "不退款"]),
    (&["盖房", "盖房子", "重盖", "建房"], &["建房", "宅基地", "农村盖房审批"]),
    (&["结婚", "领证"], &["结婚", "婚姻登记"]),
];

/// Words that say the person wants a human agent.
pub const HUMAN_WORDS: &[&str] = &["人工", "客服", "真人", "工作人员", "找个人问", "坐席"];

/// Words that hint the applicant acts for a business.
pub const ENTERPRISE_HINTS: &[&str] =
    &["公司", "企业", "个体", "单位", "工厂", "厂里", "员工", "法人", "营业执照"];

/// Words that hint the applicant acts as a private person.
pub const PERSON_HINTS: &[&str] =
    &["孩子", "小孩", "宝宝", "老人", "父母", "我爸", "我妈", "老婆", "老公", "媳妇", "家里", "个人", "我"];

/// Phrases that mark a broad, life-event question ("what do I need for …"), which a bundle
/// (一件事) answers better than a single item.
pub const BROAD_INTENT: &[&str] = &[
    "要办什么",
    "办什么",
    "要办哪些",
    "哪些证",
    "哪些手续",
    "什么手续",
    "啥手续",
    "什么证",
    "全套",
    "流程",
    "一件事",
    "都要办",
    "开个",
    "开一家",
    "开家",
    "一起办",
    "一次办",
    "要准备什么",
    "跑哪些",
    "后事",
    "怎么弄",
    "这些",
];

/// High-frequency items shown for an empty query (from what halls handle most).
pub const POPULAR: &[&str] = &[
    "JN-YJS-001",
    "JN-YJS-010",
    "JN-GAJ-0006",
    "JN-RSJ-0016",
    "JN-GJJ-0003",
    "JN-LXSPJ-0001",
    "JN-ZRJ-0004",
    "JN-YBJ-0005",
];
