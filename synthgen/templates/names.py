"""Word lists the identity generators draw from: our own short lists (no Faker: its data and
speed vary by version, and its ID generators depend on today's date). Chinese lists use only
GB2312 characters, all covered by the shipped CJK subset font (tested)."""

from __future__ import annotations

# -- Chinese -----------------------------------------------------------------------------------
CN_SURNAMES = tuple(
    "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 于 董 萧 程 曹 袁 邓 许 傅 "
    "沈 曾 彭 吕 苏 卢 蒋 蔡 贾 丁 魏 薛 叶 阎 余 潘 杜 戴 夏 钟 汪 田 任 姜 范 方 石 姚 谭 廖 邹 熊 金 陆 郝 孔 白 "
    "崔 康 毛 邱 秦 江 史 顾 侯 邵 孟 龙 万 段 雷 钱 汤 尹 黎 易 常 武 乔 贺 赖 龚 文 欧阳 司马 诸葛 上官".split()
)
CN_GIVEN_M = tuple("伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 华 飞 鑫 波 斌 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 "
                   "洋 峰 建 国 文 志 天 成 海 东 晨 博 睿 轩 泽 宏 振 昊".split())
CN_GIVEN_F = tuple("芳 娜 敏 静 丽 艳 娟 霞 秀 玲 燕 婷 雪 慧 莹 琳 颖 倩 洁 佳 欣 怡 萍 红 梅 兰 月 晶 "
                   "璐 瑶 琪 雯 悦 薇 楠 蕾 婉 思 雨 诗 涵 梦 晓 春 菲 彤 妍".split())

CN_ETHNICITIES = tuple(
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺".split()
)
# Roughly how common each is (the first, 汉, dominates): weights for the draw.
CN_ETHNICITY_WEIGHTS = tuple([60.0] + [1.0] * 10 + [0.3] * (len(CN_ETHNICITIES) - 11))

# Administrative division codes (public GB/T 2260 codes) with the names an address uses:
# (code, province, city, district). City "" for the municipalities.
CN_REGIONS = (
    ("110101", "北京市", "", "东城区"), ("110105", "北京市", "", "朝阳区"), ("110108", "北京市", "", "海淀区"),
    ("310101", "上海市", "", "黄浦区"), ("310104", "上海市", "", "徐汇区"), ("310115", "上海市", "", "浦东新区"),
    ("120101", "天津市", "", "和平区"), ("500103", "重庆市", "", "渝中区"),
    ("440103", "广东省", "广州市", "荔湾区"), ("440106", "广东省", "广州市", "天河区"),
    ("440304", "广东省", "深圳市", "福田区"), ("440305", "广东省", "深圳市", "南山区"),
    ("330102", "浙江省", "杭州市", "上城区"), ("330106", "浙江省", "杭州市", "西湖区"),
    ("320102", "江苏省", "南京市", "玄武区"), ("320106", "江苏省", "南京市", "鼓楼区"),
    ("320505", "江苏省", "苏州市", "虎丘区"), ("420102", "湖北省", "武汉市", "江岸区"),
    ("420106", "湖北省", "武汉市", "武昌区"), ("510104", "四川省", "成都市", "锦江区"),
    ("510107", "四川省", "成都市", "武侯区"), ("610103", "陕西省", "西安市", "碑林区"),
    ("610113", "陕西省", "西安市", "雁塔区"), ("370102", "山东省", "济南市", "历下区"),
    ("370202", "山东省", "青岛市", "市南区"), ("410105", "河南省", "郑州市", "金水区"),
    ("430102", "湖南省", "长沙市", "芙蓉区"), ("350102", "福建省", "福州市", "鼓楼区"),
    ("350203", "福建省", "厦门市", "思明区"), ("210102", "辽宁省", "沈阳市", "和平区"),
    ("220102", "吉林省", "长春市", "南关区"), ("230102", "黑龙江省", "哈尔滨市", "道里区"),
    ("130102", "河北省", "石家庄市", "长安区"), ("140105", "山西省", "太原市", "小店区"),
    ("340102", "安徽省", "合肥市", "瑶海区"), ("360102", "江西省", "南昌市", "东湖区"),
    ("450102", "广西壮族自治区", "南宁市", "兴宁区"), ("530102", "云南省", "昆明市", "五华区"),
    ("520102", "贵州省", "贵阳市", "南明区"), ("620102", "甘肃省", "兰州市", "城关区"),
    ("150102", "内蒙古自治区", "呼和浩特市", "新城区"), ("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
    ("540102", "西藏自治区", "拉萨市", "城关区"), ("640104", "宁夏回族自治区", "银川市", "兴庆区"),
    ("630102", "青海省", "西宁市", "城东区"), ("460105", "海南省", "海口市", "秀英区"),
)
CN_STREET_HEADS = tuple("长江 黄河 人民 建设 中山 解放 和平 幸福 光明 新华 文化 朝阳 东风 胜利 青年 学府 滨江 花园 "
                        "金桥 南京 北京 湖滨 迎宾".split())
CN_STREET_TAILS = ("路", "街", "大道", "巷", "东路", "西路", "南路", "北路")
CN_ESTATES_HEAD = tuple("阳光 锦绣 翠湖 金色 紫荆 碧水 和谐 东方 春天 丽景 华府 绿城".split())
CN_ESTATES_TAIL = ("花园", "小区", "新村", "家园", "苑", "公寓")

# -- Latin (ICAO documents, licences) ------------------------------------------------------------
GIVEN_M = tuple("JAMES JOHN ROBERT MICHAEL DAVID WILLIAM RICHARD JOSEPH THOMAS CHARLES DANIEL MATTHEW ANTHONY MARK "
                "PAUL STEVEN ANDREW KENNETH JOSHUA KEVIN BRIAN GEORGE TIMOTHY RONALD JASON EDWARD JEFFREY RYAN "
                "JACOB GARY NICHOLAS ERIC JONATHAN STEPHEN LARRY JUSTIN SCOTT BRANDON BENJAMIN SAMUEL LUCAS "
                "MATEO LUKAS HUGO LEON NOAH LIAM ELIAS MARCO PIETRO ANDERS JAN PIOTR MIGUEL JOSE ALI OMAR "
                "HIROSHI KENJI WEI MINH RAJ ARJUN KWAME".split())
GIVEN_F = tuple("MARY PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN LISA NANCY BETTY MARGARET "
                "SANDRA ASHLEY KIMBERLY EMILY DONNA MICHELLE CAROL AMANDA MELISSA DEBORAH STEPHANIE REBECCA LAURA "
                "SHARON CYNTHIA KATHLEEN AMY ANNA EMMA OLIVIA SOFIA MIA ISABELLA CHLOE LEA CLARA ELENA GIULIA "
                "INGRID MAJA ZOFIA LUCIA CARMEN FATIMA LEILA YUKI AIKO MEI LAN PRIYA ANANYA AMARA ZARA".split())
SURNAMES = tuple("SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ GONZALEZ "
                 "WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS SANCHEZ CLARK "
                 "RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN ADAMS "
                 "NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS MUELLER SCHMIDT SCHNEIDER FISCHER "
                 "WEBER ROSSI RUSSO FERRARI ESPOSITO BIANCHI DUBOIS MOREAU LAURENT NOWAK KOWALSKI WOJCIK "
                 "JOHANSSON ANDERSEN NIELSEN HANSEN SATO SUZUKI TAKAHASHI TANAKA KIM PARK CHOI WANG ZHANG "
                 "SILVA SANTOS OLIVEIRA PEREIRA COSTA OKAFOR MENSAH HASSAN KHAN PATEL SHARMA".split()) + (
    # multi-part surnames: a space or hyphen inside becomes '<' in the MRZ, an apostrophe is dropped
    "O'BRIEN", "VAN DER BERG", "DE LA CRUZ", "MACDONALD-SMITH", "ST JOHN")

CITIES = tuple("SPRINGFIELD RIVERTON LAKEWOOD FAIRVIEW GREENVILLE MADISON CLINTON FRANKLIN GEORGETOWN ARLINGTON "
               "ASHLAND BURLINGTON CLAYTON DOVER HUDSON KINGSTON MILTON NEWPORT OXFORD SALEM WINCHESTER "
               "BRISTOL CAMBRIDGE AUBURN".split())
STATES = ("AL", "AZ", "CA", "CO", "CT", "FL", "GA", "IL", "IN", "KS", "MA", "MD", "MI", "MN", "MO", "NC", "NJ",
          "NV", "NY", "OH", "OR", "PA", "TN", "TX", "UT", "VA", "WA", "WI")
STREETS = tuple("MAIN OAK PINE MAPLE CEDAR ELM WASHINGTON LAKE HILL PARK RIVER SUNSET HIGHLAND WALNUT CHESTNUT "
                "LINCOLN JACKSON MILL CHURCH SPRING MEADOW FOREST".split())
STREET_KINDS = ("ST", "AVE", "RD", "DR", "LN", "BLVD", "CT", "WAY", "PL")
EYES = ("BLK", "BLU", "BRO", "GRY", "GRN", "HAZ")
EYES_WEIGHTS = (1.0, 3.0, 5.0, 0.5, 1.0, 1.5)
HAIR = ("BLK", "BLN", "BRO", "GRY", "RED", "WHI")
# by age band at issue (identity.AGE_BANDS: child, under 40, from 40, from 60): gray and white hair come with age
HAIR_WEIGHTS_BY_AGE = ((3.0, 3.0, 4.0, 0.0, 0.6, 0.0), (3.0, 2.0, 4.0, 0.0, 0.6, 0.0), (3.0, 1.5, 3.5, 2.0, 0.4, 0.2),
                       (1.0, 0.5, 1.5, 4.0, 0.2, 2.5))

# Hanyu pinyin (no tones, upper case, as passports print it) of every character the Chinese
# name lists use; a two-character given name is written as one word (ZHANG XIAOMING).
PINYIN = dict(zip(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田"
    "任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文",
    ("WANG LI ZHANG LIU CHEN YANG ZHAO HUANG ZHOU WU XU SUN HU ZHU GAO LIN HE GUO MA LUO LIANG SONG ZHENG XIE HAN "
     "TANG FENG YU DONG XIAO CHENG CAO YUAN DENG XU FU SHEN ZENG PENG LYU SU LU JIANG CAI JIA DING WEI XUE YE YAN "
     "YU PAN DU DAI XIA ZHONG WANG TIAN REN JIANG FAN FANG SHI YAO TAN LIAO ZOU XIONG JIN LU HAO KONG BAI CUI KANG "
     "MAO QIU QIN JIANG SHI GU HOU SHAO MENG LONG WAN DUAN LEI QIAN TANG YIN LI YI CHANG WU QIAO HE LAI GONG "
     "WEN").split()))
PINYIN.update({"欧阳": "OUYANG", "司马": "SIMA", "诸葛": "ZHUGE", "上官": "SHANGGUAN"})
PINYIN.update(zip(
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁洋峰建国志天成海东晨博睿轩泽宏振昊",
    ("WEI QIANG LEI JUN YONG JIE TAO MING CHAO GANG PING HUI PENG HUA FEI XIN BO BIN YU HAO KAI JIAN JUN FAN "
     "SHUAI XU NING YANG FENG JIAN GUO ZHI TIAN CHENG HAI DONG CHEN BO RUI XUAN ZE HONG ZHEN HAO").split()))
PINYIN.update(zip(
    "芳娜敏静丽艳娟霞秀玲燕婷雪慧莹琳颖倩洁佳欣怡萍红梅兰月晶璐瑶琪雯悦薇楠蕾婉思雨诗涵梦晓春菲彤妍",
    ("FANG NA MIN JING LI YAN JUAN XIA XIU LING YAN TING XUE HUI YING LIN YING QIAN JIE JIA XIN YI PING HONG MEI "
     "LAN YUE JING LU YAO QI WEN YUE WEI NAN LEI WAN SI YU SHI HAN MENG XIAO CHUN FEI TONG YAN").split()))
