package sink

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/xitongsys/parquet-go/layout"
	"github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/schema"
)

// parquetSchema only declares the file schema; values never pass through it
// (see marshal). Field order is Columns order.
//
// Every timestamp carries both the TIMESTAMP logical type (UTC-adjusted
// millis) and the legacy TIMESTAMP_MILLIS converted type so that old and new
// readers agree.
type parquetSchema struct {
	UserPoolID            string  `parquet:"name=user_pool_id, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Username              string  `parquet:"name=username, type=BYTE_ARRAY, convertedtype=UTF8"`
	UserSub               *string `parquet:"name=user_sub, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	UserStatus            string  `parquet:"name=user_status, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	UserEnabled           bool    `parquet:"name=user_enabled, type=BOOLEAN"`
	UserCreateDate        *int64  `parquet:"name=user_create_date, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
	UserLastModifiedDate  *int64  `parquet:"name=user_last_modified_date, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
	GroupName             *string `parquet:"name=group_name, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	GroupDescription      *string `parquet:"name=group_description, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	GroupRoleArn          *string `parquet:"name=group_role_arn, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	GroupPrecedence       *int32  `parquet:"name=group_precedence, type=INT32, repetitiontype=OPTIONAL"`
	GroupCreationDate     *int64  `parquet:"name=group_creation_date, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
	GroupLastModifiedDate *int64  `parquet:"name=group_last_modified_date, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
	ExportedAt            *int64  `parquet:"name=exported_at, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
}

// optionalAttr appends attribute i of a row, typed as its column says.
func optionalAttr(t *layout.Table, col AttrColumn, attrs []Attr, i int) error {
	if i >= len(attrs) || !attrs[i].Set {
		optional(t, nil, false)
		return nil
	}
	v := attrs[i].Value
	switch col.Type {
	case AttrBoolean:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("attribute column %s: %q is not a boolean", col.Name, v)
		}
		optional(t, b, true)
	case AttrInteger:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("attribute column %s: %q is not an integer", col.Name, v)
		}
		optional(t, n, true)
	default:
		optional(t, v, true)
	}
	return nil
}

// parquetSchemaJSON is the file schema: parquetSchema's columns, then the
// attribute columns, all OPTIONAL (a user may lack any attribute).
func parquetSchemaJSON(attrs []AttrColumn) (string, error) {
	st := reflect.TypeFor[parquetSchema]()
	fields := make([]field, 0, st.NumField()+len(attrs))
	for i := range st.NumField() {
		fields = append(fields, field{st.Field(i).Tag.Get("parquet")})
	}
	for _, a := range attrs {
		tag := "name=" + a.Name + ", repetitiontype=OPTIONAL, "
		switch a.Type {
		case AttrBoolean:
			tag += "type=BOOLEAN"
		case AttrInteger:
			tag += "type=INT64"
		case AttrString:
			tag += "type=BYTE_ARRAY, convertedtype=UTF8"
		default:
			return "", fmt.Errorf("attribute column %s: unknown type %q", a.Name, a.Type)
		}
		fields = append(fields, field{tag})
	}
	return schemaJSON(fields)
}

// field is one column of a schema in parquet-go's JSON form: its tag.
type field struct {
	Tag string `json:"Tag"`
}

// schemaJSON is a flat schema of fields in parquet-go's JSON form.
func schemaJSON(fields []field) (string, error) {
	data, err := json.Marshal(struct {
		Tag    string  `json:"Tag"`
		Fields []field `json:"Fields"`
	}{"name=parquet_go_root, repetitiontype=REQUIRED", fields})
	return string(data), err
}

// ParquetColumn is one column of the Parquet files the sink writes, as the
// file's schema declares it.
type ParquetColumn struct {
	Name      string
	Physical  string // BYTE_ARRAY, BOOLEAN, INT32, INT64
	Timestamp bool   // INT64 holding a UTC timestamp in milliseconds
	Optional  bool
}

// ParquetColumns are the columns of a Parquet part with attrs, read from the
// same schema the encoder writes, so that a table definition made from them
// cannot drift from the files.
func ParquetColumns(attrs []AttrColumn) ([]ParquetColumn, error) {
	js, err := parquetSchemaJSON(attrs)
	if err != nil {
		return nil, err
	}
	sh, err := schema.NewSchemaHandlerFromJSON(js)
	if err != nil {
		return nil, err
	}
	var cols []ParquetColumn
	for i, el := range sh.SchemaElements {
		if el.GetNumChildren() > 0 {
			continue
		}
		cols = append(cols, ParquetColumn{
			Name:      sh.Infos[i].ExName,
			Physical:  el.GetType().String(),
			Timestamp: el.IsSetLogicalType() && el.GetLogicalType().IsSetTIMESTAMP(),
			Optional:  el.GetRepetitionType() == parquet.FieldRepetitionType_OPTIONAL,
		})
	}
	return cols, nil
}
